using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace BrummerQueue.Server.Tests.Fuzz;

/// <summary>A logger provider that keeps every entry at <see cref="LogLevel.Error"/> or above, for tests that require a clean log.</summary>
public sealed class ErrorLogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _entries = new();

    /// <summary>Error and Critical entries so far: category, event id, message and exception.</summary>
    public IReadOnlyCollection<string> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Category(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(string category, LogLevel level, EventId eventId, string message, Exception? exception)
    {
        if (level >= LogLevel.Error)
        {
            _entries.Enqueue($"{level} {category} [{eventId.Id}] {message} {exception}");
        }
    }

    private sealed class Category(ErrorLogCapture owner, string name) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Add(name, logLevel, eventId, formatter(state, exception), exception);
            }
        }
    }
}
