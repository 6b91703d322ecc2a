using System.Text.Json.Serialization;

namespace BrummerQueue.Server.Hosting;

/// <summary>The body of <c>/healthz</c>; <c>instance_id</c> is <see cref="WebSockets.ServerIdentity.InstanceId"/>, new at every start.</summary>
internal sealed record HealthStatus(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("server")] string Server,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("instance_id")] string InstanceId,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null);
