namespace BrummerQueue.Server.Hosting;

/// <summary>The store could not be reached when the host started (a Redis that does not answer).</summary>
internal sealed class StoreUnreachableException(string message) : Exception(message);
