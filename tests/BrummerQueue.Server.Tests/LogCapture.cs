using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace BrummerQueue.Server.Tests;

/// <summary>
/// A logger provider that keeps every entry the host writes (after the host's level filters, so a
/// test sees what a user's console would show). Install with <see cref="Install"/> as a host's configure callback.
/// </summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    /// <summary>Every entry written so far, in order.</summary>
    public IReadOnlyList<Entry> Entries => [.. _entries];

    public void Install(WebApplicationBuilder builder) => builder.Logging.AddProvider(this);

    /// <summary>
    /// <see cref="Install"/>, and this provider also gets brummerq's own Debug lines (the one line a client's mistake
    /// or cancellation writes); other providers (the console) keep the host's levels.
    /// </summary>
    public void InstallWithDebug(WebApplicationBuilder builder)
    {
        Install(builder);
        builder.Logging.AddFilter<LogCapture>("BrummerQueue", LogLevel.Debug);
    }

    /// <summary>Entries with event id <paramref name="eventId"/>.</summary>
    public Entry[] WithEventId(int eventId) => [.. _entries.Where(e => e.EventId.Id == eventId)];

    /// <summary>Every entry at Warning or above, and every entry that carries an exception (a stack trace on a console), one line each.</summary>
    public string[] Faults() =>
        [.. _entries.Where(e => e.Level >= LogLevel.Warning || e.Exception is not null).Select(e => $"{e.Category} [{e.Level}] {e.Message}{(e.Exception is null ? string.Empty : " (" + e.Exception.GetType().Name + ")")}")];

    /// <summary>Every entry, one line each, for a failing assertion's message.</summary>
    public string Dump() => string.Join(Environment.NewLine, _entries.Select(e => $"{e.Category}[{e.EventId.Id}] [{e.Level}] {e.Message}{(e.Exception is null ? string.Empty : " (" + e.Exception.GetType().Name + ")")}"));

    /// <summary>Entries at <paramref name="level"/> or above, one line each (category, level, message, exception type).</summary>
    public string[] AtOrAbove(LogLevel level) =>
        [.. _entries.Where(e => e.Level >= level).Select(e => $"{e.Category} [{e.Level}] {e.Message}{(e.Exception is null ? string.Empty : " (" + e.Exception.GetType().Name + ")")}")];

    /// <summary>
    /// Entries above Debug other than the host's start and stop lines: what serving requests wrote.
    /// brummerq logs nothing above Debug for a request that a client got wrong or gave up on.
    /// </summary>
    public string[] RequestLogs() =>
        [.. AtOrAbove(LogLevel.Information).Where(line => !line.StartsWith("Microsoft.Hosting.Lifetime ", StringComparison.Ordinal))];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    /// <summary>One log entry.</summary>
    internal sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
