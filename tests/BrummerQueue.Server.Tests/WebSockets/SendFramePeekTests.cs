using System.Text;
using BrummerQueue.Core;
using BrummerQueue.Server.Protocol;
using BrummerQueue.Server.WebSockets;

namespace BrummerQueue.Server.Tests.WebSockets;

/// <summary>
/// The reader's look ahead for pipelined sends (docs/protocol.md "Pipelined sends"): only a well-formed
/// <c>queue_message</c> to the pipeline's channel may start before the sends under way are acked.
/// </summary>
public sealed class SendFramePeekTests
{
    private static readonly int s_depth = PayloadEnvelope.MaxDepth(new QueueOptions());

    [Theory]
    [InlineData("""{"type":"queue_message","id":"1","data":{"channel":"c","payload":{"a":[1,2,{"b":null}]},"ttl":5}}""")]
    [InlineData("""{"data":{"payload":"x","channel":"c"},"type":"queue_message"}""")]
    [InlineData("""{"type":"queue_message","data":{"channel":"\u0063"}}""")]
    [InlineData(""" {"type" : "queue_message" , "data" : { "channel" : "c" } } """)]
    public void IsSendTo_SendToTheChannel_True(string frame) => Assert.True(SendFramePeek.IsSendTo(Encoding.UTF8.GetBytes(frame), "c", s_depth));

    [Theory]
    [InlineData("""{"type":"queue_message","data":{"channel":"d"}}""")]
    [InlineData("""{"type":"queue_receive","data":{"channel":"c"}}""")]
    [InlineData("""{"type":"queue_request","data":{"channel":"c"}}""")]
    [InlineData("""{"type":"queue_message","type":"queue_receive","data":{"channel":"c"}}""")]
    [InlineData("""{"type":"queue_message","data":{"channel":"c","channel":"d"}}""")]
    [InlineData("""{"type":"queue_message","data":{"channel":"c"},"data":{"channel":"d"}}""")]
    [InlineData("""{"type":"queue_message","data":{"channel":"c"}} {}""")]
    [InlineData("""{"type":"queue_message","data":{"channel":"c"}""")]
    [InlineData("""{"type":"queue_message"}""")]
    [InlineData("""{"type":"queue_message","data":{"payload":1}}""")]
    [InlineData("""{"type":"queue_message","data":"c"}""")]
    [InlineData("""{"type":"queue_message","data":{"channel":1}}""")]
    [InlineData("""["queue_message","c"]""")]
    [InlineData("")]
    [InlineData("not json")]
    public void IsSendTo_AnythingElse_False(string frame) => Assert.False(SendFramePeek.IsSendTo(Encoding.UTF8.GetBytes(frame), "c", s_depth));

    [Fact]
    public void IsSendTo_PayloadDeeperThanTheFrameBound_False()
    {
        var payload = new string('[', s_depth) + new string(']', s_depth);
        Assert.False(SendFramePeek.IsSendTo(Encoding.UTF8.GetBytes("{\"type\":\"queue_message\",\"data\":{\"channel\":\"c\",\"payload\":" + payload + "}}"), "c", s_depth));
    }
}
