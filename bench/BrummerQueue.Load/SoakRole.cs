namespace BrummerQueue.Load;

/// <summary>What one soak WebSocket client does while connected.</summary>
internal enum SoakRole
{
    /// <summary>Sends messages with unique ids to the shared work channels.</summary>
    Producer,

    /// <summary>Consumes from the shared work channels with blocking receives, competing with the other consumers.</summary>
    Consumer,

    /// <summary>Subscribes to work channels and checks each subscription's pushes arrive once, in order.</summary>
    Subscriber,
}
