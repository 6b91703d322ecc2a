using System.Globalization;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.E2E.Tests;

/// <summary>Starts brummerq for a browser test: a real Kestrel on a loopback port, quiet logs.</summary>
public static class LoopbackBrummer
{
    /// <summary>
    /// Starts a server on <paramref name="port"/> (0 = any free port), optionally with a queue made
    /// beforehand (messages already in it are retained before the server accepts its first connection),
    /// and optionally with a <paramref name="token"/> (as <c>--token</c>).
    /// </summary>
    public static Task<TestServerHost> StartAsync(int port = 0, IMessageQueue? queue = null, string? token = null) =>
        TestServerHost.StartOnLoopbackAsync(
            new()
            {
                [$"{ServerOptions.SectionName}:Port"] = port.ToString(CultureInfo.InvariantCulture),
                [$"{ServerOptions.SectionName}:Token"] = token,
                ["Logging:LogLevel:Default"] = "Warning",
            },
            builder =>
            {
                if (queue is not null)
                {
                    builder.Services.AddSingleton(queue);
                }
            });
}
