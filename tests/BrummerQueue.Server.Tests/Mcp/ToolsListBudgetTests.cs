using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>
/// Issue 10 "Lean tools": every tool definition is read by the model on each turn, so <c>tools/list</c> stays under a
/// token budget however many tools there are, and each description says when to use the tool and how long it may wait.
/// </summary>
public sealed class ToolsListBudgetTests
{
    /// <summary>The budget, in tokens estimated as characters ÷ 4 of the <c>tools/list</c> result's JSON.</summary>
    private const int TokenBudget = 2500;

    [Fact]
    public async Task ToolsList_AllTools_StaysUnderTokenBudget()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var response = await client.SendRequestAsync(
            new JsonRpcRequest { Method = RequestMethods.ToolsList, Params = new JsonObject() },
            TestContext.Current.CancellationToken);

        var json = response.Result!.ToJsonString();
        var tools = response.Result!["tools"]!.AsArray();
        var tokens = json.Length / 4;
        Assert.True(tools.Count >= 6, $"expected at least the six tools, got {tools.Count}");
        Assert.True(tokens < TokenBudget, $"tools/list is {json.Length} characters, about {tokens} tokens, over the budget of {TokenBudget} for {tools.Count} tools");
    }

    [Fact]
    public async Task QueueReceive_Description_StatesLongestWaitAndClientTimeout()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var receive = (await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).Single(t => t.Name == "queue_receive");
        var timeout = receive.ProtocolTool.InputSchema.GetProperty("properties").GetProperty("timeout").GetProperty("description").GetString();

        Assert.Contains("300 s", receive.Description, StringComparison.Ordinal);
        Assert.Contains("request timeout", timeout, StringComparison.Ordinal);
        Assert.Contains("typically 60 s", timeout, StringComparison.Ordinal);
        Assert.Contains("50", timeout, StringComparison.Ordinal);
        Assert.Contains("unless it resets that timer on progress", timeout, StringComparison.Ordinal);
    }
}
