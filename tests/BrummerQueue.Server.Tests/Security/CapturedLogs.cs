using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace BrummerQueue.Server.Tests.Security;

/// <summary>
/// A logger provider that keeps everything written at every level: the formatted message, every structured
/// value, the exception and every scope, so a test can search all of it.
/// </summary>
internal sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _lines = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var parts = new List<string> { $"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)}" };
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                parts.AddRange(values.Select(v => $"{v.Key}={v.Value}"));
            }

            owner._scopes.ForEachScope((scope, list) => list.Add("scope " + (scope is IEnumerable<KeyValuePair<string, object?>> kv ? string.Join(",", kv.Select(v => $"{v.Key}={v.Value}")) : scope?.ToString())), parts);
            if (exception is not null)
            {
                parts.Add(exception.ToString());
            }

            owner._lines.Enqueue(string.Join(" | ", parts));
        }
    }
}
