using BrummerQueue.Core.InMemory;

namespace BrummerQueue.Core;

/// <summary>Creates message queues.</summary>
public static class MessageQueue
{
    /// <summary>
    /// Creates the in-memory queue with its background sweeper.
    /// </summary>
    /// <param name="options">Limits; null means the defaults. Validated here.</param>
    /// <param name="timeProvider">Clock and timers; null means <see cref="TimeProvider.System"/>.</param>
    public static IMessageQueue CreateInMemory(QueueOptions? options = null, TimeProvider? timeProvider = null)
    {
        options ??= new QueueOptions();
        options.Validate();
        return new InMemoryMessageQueue(options, timeProvider ?? TimeProvider.System);
    }
}
