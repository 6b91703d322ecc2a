using Microsoft.Extensions.Logging;

namespace BrummerQueue.Redis.Tests;

/// <summary>A logger that keeps every line (event id, level, text and the exception's text) for a test to look at. Thread-safe (a lock around the list).</summary>
internal sealed class ListLogger : ILogger
{
    private readonly List<(int EventId, LogLevel Level, string Text)> _lines = [];

    public IReadOnlyList<(int EventId, LogLevel Level, string Text)> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines)
        {
            _lines.Add((eventId.Id, logLevel, formatter(state, exception) + (exception is null ? string.Empty : "\n" + exception)));
        }
    }
}
