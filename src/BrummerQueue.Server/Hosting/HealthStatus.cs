using System.Text.Json.Serialization;

namespace BrummerQueue.Server.Hosting;

/// <summary>
/// The body of <c>/healthz</c>; <c>instance_id</c> is <see cref="WebSockets.ServerIdentity.InstanceId"/>, new at every start;
/// <c>store</c> is <see cref="ServerOptions.Store"/>'s kind, <c>memory</c> or <c>redis</c>.
/// </summary>
internal sealed record HealthStatus(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("server")] string Server,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("instance_id")] string InstanceId,
    [property: JsonPropertyName("store")] string Store,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null);
