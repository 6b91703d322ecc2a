namespace BrummerQueue.Server.Hosting;

/// <summary>The values of <see cref="ServerOptions.Store"/>.</summary>
internal static class StoreKinds
{
    /// <summary>The in-memory store of this process (the default).</summary>
    public const string Memory = "memory";

    /// <summary>The Redis store (SPEC.md §6): every node given the same Redis serves the same queue.</summary>
    public const string Redis = "redis";
}
