using System.Collections.Concurrent;
using BrummerQueue.Server.Hosting;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.WebSockets;

/// <summary>
/// Counts WebSocket connections against <see cref="ServerOptions.MaxConnections"/> and closes them
/// all (1001, "server shutting down", after their waiting receives answered empty) when the host
/// stops, so that shutdown does not wait for clients and clients know to reconnect. Thread-safe.
/// </summary>
internal sealed class WebSocketConnectionTracker : IDisposable
{
    /// <summary>
    /// Sockets that may be open at once only to be refused (a close frame with the reason, for browsers, which
    /// see no HTTP status of a failed handshake); beyond it refusals are plain HTTP answers before the upgrade.
    /// </summary>
    public const int MaxRefusing = 64;

    private readonly int _maxConnections;
    private readonly ConcurrentDictionary<string, WebSocketConnection> _connections = new();
    private readonly CancellationToken _stoppingToken;
    private readonly CancellationTokenRegistration _stopping;

    // Lock-free: slots reserved (connections open or being upgraded). Never above _maxConnections.
    private int _reserved;

    // Lock-free: sockets accepted only to be refused. Never above MaxRefusing.
    private int _refusing;

    public WebSocketConnectionTracker(IOptions<ServerOptions> options, IHostApplicationLifetime lifetime)
    {
        _maxConnections = options.Value.MaxConnections;
        _stoppingToken = lifetime.ApplicationStopping;
        _stopping = _stoppingToken.Register(CloseAll);
    }

    /// <summary>Open connections.</summary>
    public int Count => Volatile.Read(ref _reserved);

    /// <summary>Reserves a slot before the upgrade; false when the limit is reached.</summary>
    public bool TryReserve()
    {
        var current = Volatile.Read(ref _reserved);
        while (current < _maxConnections)
        {
            var seen = Interlocked.CompareExchange(ref _reserved, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>Returns a slot taken by <see cref="TryReserve"/>.</summary>
    public void Release() => Interlocked.Decrement(ref _reserved);

    /// <summary>Reserves one of <see cref="MaxRefusing"/> slots for a socket accepted only to be refused; false when all are taken.</summary>
    public bool TryReserveRefusal()
    {
        if (Interlocked.Increment(ref _refusing) <= MaxRefusing)
        {
            return true;
        }

        Interlocked.Decrement(ref _refusing);
        return false;
    }

    /// <summary>Returns a slot taken by <see cref="TryReserveRefusal"/>.</summary>
    public void ReleaseRefusal() => Interlocked.Decrement(ref _refusing);

    /// <summary>Tracks an open connection; one that opens while the host is already stopping is closed at once.</summary>
    public void Add(WebSocketConnection connection)
    {
        _connections[connection.Id] = connection;
        if (_stoppingToken.IsCancellationRequested)
        {
            _ = connection.ShutdownAsync();
        }
    }

    public void Remove(WebSocketConnection connection) => _connections.TryRemove(connection.Id, out _);

    public void Dispose() => _stopping.Dispose();

    private void CloseAll()
    {
        foreach (var connection in _connections.Values)
        {
            _ = connection.ShutdownAsync();
        }
    }
}
