namespace BrummerQueue.Core.Tests.Model;

/// <summary>One step of a generated run. Which fields matter depends on <see cref="Kind"/>.</summary>
public sealed record QueueOperation(QueueOperationKind Kind, int Channel, int A, int B, bool Flag)
{
    public override string ToString() => Kind switch
    {
        QueueOperationKind.Send => $"Send(ch{Channel}, ttl#{A}, payload#{B})",
        QueueOperationKind.Receive => $"Receive(ch{Channel}, limit {A}, peek {Flag})",
        QueueOperationKind.Subscribe => $"Subscribe(ch{Channel}, buffer {A}, since {(Flag ? B.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none")})",
        QueueOperationKind.Read => $"Read(sub#{A}, limit {B})",
        QueueOperationKind.Unsubscribe => $"Unsubscribe(sub#{A})",
        QueueOperationKind.Advance => $"Advance({A} ms)",
        QueueOperationKind.TakeHeld => $"TakeHeld(ch{Channel}, limit {A})",
        QueueOperationKind.ReadHeld => $"ReadHeld(sub#{A}, limit {B})",
        QueueOperationKind.PutBack => $"PutBack(held#{A})",
        QueueOperationKind.Request => $"Request(ch{Channel}, timeout#{A}, payload#{B})",
        QueueOperationKind.Reply => $"Reply(request#{A}, payload#{B})",
        QueueOperationKind.EndRequest => $"EndRequest(request#{A}, wait {Flag})",
        QueueOperationKind.SubscribePattern => $"SubscribePattern(pattern#{A}, buffer {B})",
        QueueOperationKind.Lease => $"Lease(ch{Channel}, limit {A}, owner/timeout#{B}, held {Flag})",
        QueueOperationKind.Ack => $"Ack(lease#{A}, owner#{B})",
        QueueOperationKind.EndOwner => $"EndOwner(owner#{A})",
        _ => Kind.ToString(),
    };
}
