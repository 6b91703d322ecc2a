using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Tests.Mcp;

namespace BrummerQueue.Server.Tests.Leases;

/// <summary>Acknowledged receive over MCP with the official SDK client: <c>queue_receive ack_timeout</c>, <c>queue_ack</c>, owner release.</summary>
public sealed class McpLeaseTests
{
    [Fact]
    public async Task QueueReceive_WithAckTimeoutThenQueueAck_RemovesTheMessageAndCountsIt()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        await client.CallOkAsync("queue_send", """{"channel":"jobs","payload":{"n":1}}""");

        var leased = await client.CallOkAsync("queue_receive", """{"channel":"jobs","ack_timeout":30}""");
        var id = leased.GetProperty("messages")[0].GetProperty("id").GetString();
        var hidden = await client.CallOkAsync("queue_receive", """{"channel":"jobs"}""");
        var acked = await client.CallOkAsync("queue_ack", $$"""{"channel":"jobs","message_ids":["{{id}}","00000000-0000-0000-0000-000000000000"]}""");
        var stats = await client.CallOkAsync("queue_stats");

        Assert.Equal(0, hidden.GetProperty("count").GetInt32());
        Assert.Equal(1, acked.GetProperty("acked").GetInt32());
        Assert.Equal(["00000000-0000-0000-0000-000000000000"], acked.GetProperty("not_leased").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(1, stats.GetProperty("messages_acked").GetInt64());
        Assert.Equal(1, stats.GetProperty("messages_leased").GetInt64());
        Assert.Equal(0, stats.GetProperty("messages_in_flight").GetInt64());
        Assert.Equal(1, stats.GetProperty("channels").GetProperty("jobs").GetProperty("acked").GetInt64());
    }

    [Fact]
    public async Task SessionEnds_WithALease_ReturnsTheMessageForAnotherAgent()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var survivor = await McpTestClient.ConnectAsync(host);
        await using (var crashing = await McpTestClient.ConnectAsync(host))
        {
            await crashing.CallOkAsync("queue_send", """{"channel":"jobs","payload":"task"}""");
            await crashing.CallOkAsync("queue_receive", """{"channel":"jobs","ack_timeout":3600}""");
        }

        await McpToolsTests.WaitUntilAsync(() => host.Queue.GetStats().Leases.InFlight == 0);
        var again = await survivor.CallOkAsync("queue_receive", """{"channel":"jobs","ack_timeout":60}""");
        var message = again.GetProperty("messages")[0];
        var acked = await survivor.CallOkAsync("queue_ack", $$"""{"channel":"jobs","message_ids":["{{message.GetProperty("id").GetString()}}"]}""");

        Assert.Equal(1, message.GetProperty("delivery_count").GetInt32());
        Assert.Equal(1, acked.GetProperty("acked").GetInt32());
    }

    [Fact]
    public async Task QueueAck_ForAnotherSessionsLease_ReportsItNotLeased()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var owner = await McpTestClient.ConnectAsync(host);
        await using var other = await McpTestClient.ConnectAsync(host);
        await owner.CallOkAsync("queue_send", """{"channel":"jobs"}""");
        var id = (await owner.CallOkAsync("queue_receive", """{"channel":"jobs","ack_timeout":60}""")).GetProperty("messages")[0].GetProperty("id").GetString();

        var result = await other.CallOkAsync("queue_ack", $$"""{"channel":"jobs","message_ids":["{{id}}"]}""");

        Assert.Equal(0, result.GetProperty("acked").GetInt32());
        Assert.Equal(1, host.Queue.GetStats().Leases.InFlight);
    }

    [Theory]
    [InlineData("queue_receive", """{"channel":"jobs","ack_timeout":0}""", "ack_timeout must be a number of seconds between 1 and 3600")]
    [InlineData("queue_receive", """{"channel":"jobs","ack_timeout":"5"}""", "ack_timeout must be a number of seconds between 1 and 3600")]
    [InlineData("queue_receive", """{"channel":"jobs","ack_timeout":5,"peek":true}""", "ack_timeout cannot be combined with peek")]
    [InlineData("queue_ack", """{"channel":"jobs","message_ids":[]}""", "message_ids must be a list of 1 to 1000 message ids")]
    [InlineData("queue_ack", """{"channel":"jobs","message_ids":"x"}""", "message_ids must be a list of 1 to 1000 message ids")]
    [InlineData("queue_ack", """{"message_ids":["x"]}""", "channel is required")]
    public async Task LeaseTools_BadArguments_ErrorNamesTheRule(string tool, string arguments, string rule)
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var error = await client.CallErrorAsync(tool, arguments);

        Assert.Contains(rule, error, StringComparison.Ordinal);
    }
}
