using System.Text.Json.Serialization;

namespace BrummerQueue.Server.Hosting;

/// <summary>Source-generated JSON for <see cref="HealthStatus"/>.</summary>
[JsonSerializable(typeof(HealthStatus))]
internal sealed partial class HealthJsonContext : JsonSerializerContext;
