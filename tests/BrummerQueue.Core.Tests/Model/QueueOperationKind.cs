namespace BrummerQueue.Core.Tests.Model;

public enum QueueOperationKind
{
    Send,
    Receive,
    Subscribe,
    Read,
    Unsubscribe,
    Advance,
    Sweep,
    Stats,
    TakeHeld,
    ReadHeld,
    PutBack,
    Request,
    Reply,
    EndRequest,
    SubscribePattern,
    Lease,
    Ack,
    EndOwner,
}
