using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace BrummerQueue.Server.Tests.Hosting;

/// <summary>
/// Listens to Kestrel's <c>kestrel.connection.duration</c> metric, which Kestrel records when a connection
/// ends, with the reason in <c>error.type</c> (e.g. <c>request_headers_timeout</c>): lets a test await the
/// server cutting a connection off, and why, without reading from it.
/// </summary>
internal sealed class KestrelConnectionEnds : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _reasons = new(StringComparer.Ordinal);

    public KestrelConnectionEnds()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Microsoft.AspNetCore.Server.Kestrel" && instrument.Name == "kestrel.connection.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "error.type" && tag.Value?.ToString() is { } reason)
                {
                    Reason(reason).TrySetResult();
                }
            }
        });
        _listener.Start();
    }

    /// <summary>Completes when a connection ends with <c>error.type</c> <paramref name="reason"/>; fails the test after <paramref name="limit"/>.</summary>
    public Task EndedAsync(string reason, TimeSpan limit) => Reason(reason).Task.WaitAsync(limit, TestContext.Current.CancellationToken);

    public void Dispose() => _listener.Dispose();

    private TaskCompletionSource Reason(string reason) =>
        _reasons.GetOrAdd(reason, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
