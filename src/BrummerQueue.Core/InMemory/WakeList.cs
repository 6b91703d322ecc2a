namespace BrummerQueue.Core.InMemory;

/// <summary>
/// Signals collected under a channel lock and completed after it is released, so no task
/// completion happens under a lock. A struct with one inline slot: the common send with no
/// waiter (or one) allocates nothing.
/// </summary>
internal struct WakeList
{
    private TaskCompletionSource? _first;
    private List<TaskCompletionSource>? _more;

    public void Add(TaskCompletionSource? signal)
    {
        if (signal is null)
        {
            return;
        }

        if (_first is null)
        {
            _first = signal;
            return;
        }

        (_more ??= []).Add(signal);
    }

    /// <summary>Completes every collected signal. Call with no lock held.</summary>
    public readonly void WakeAll()
    {
        _first?.TrySetResult();
        if (_more is not null)
        {
            foreach (var signal in _more)
            {
                signal.TrySetResult();
            }
        }
    }
}
