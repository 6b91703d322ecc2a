using BrummerQueue.Core;

namespace BrummerQueue.Core.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Send_ThenReceive_ReturnsMessage()
    {
        using var queue = MessageQueue.CreateInMemory();
        var sent = queue.Send("a", new MessageDraft(Payload: JsonPayload.Parse("{\"x\":1}")));
        var got = new List<QueueMessage>();
        Assert.Equal(1, queue.Receive("a", 10, false, got));
        Assert.Equal(sent.Message.Id, got[0].Id);
    }
}
