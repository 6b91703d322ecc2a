using System.Text.Json;
using BrummerQueue.Server.Mcp;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace BrummerQueue.Server.Tests.Mcp;

/// <summary>Channels and subscriptions as MCP resources, and resources/subscribe push over Streamable HTTP.</summary>
public sealed class McpResourcesTests
{
    [Fact]
    public async Task ListResourceTemplates_Always_ListsChannelAndSubscription()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var templates = await client.ListResourceTemplatesAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(
            ["brummerq://channels/{name}", "brummerq://subscriptions/{id}"],
            templates.Select(t => t.UriTemplate).Order(StringComparer.Ordinal));
        Assert.True(client.ServerCapabilities.Resources?.Subscribe);
    }

    [Fact]
    public async Task ListResources_ChannelsAndOwnSubscriptions_Listed()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        await client.CallOkAsync("queue_send", """{"channel":"one"}""");
        var id = (await client.CallOkAsync("queue_subscribe", """{"channel":"two"}""")).GetProperty("subscription_id").GetString();

        var resources = await client.ListResourcesAsync(cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(
            ["brummerq://channels/one", "brummerq://channels/two", "brummerq://subscriptions/" + id],
            resources.Select(r => r.Uri).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Complete_ChannelTemplate_SuggestsMatchingChannelNames()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        await client.CallOkAsync("queue_send", """{"channel":"user-events"}""");
        await client.CallOkAsync("queue_send", """{"channel":"user-replies"}""");
        await client.CallOkAsync("queue_send", """{"channel":"other"}""");

        var result = await client.CompleteAsync(
            new ResourceTemplateReference { Uri = "brummerq://channels/{name}" }, "name", "user-", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(["user-events", "user-replies"], result.Completion.Values);
    }

    [Fact]
    public async Task ReadChannel_WithMessages_PeeksNewestWithoutConsuming()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        for (var i = 1; i <= 3; i++)
        {
            await client.CallOkAsync("queue_send", $$"""{"channel":"r","payload":{{i}}}""");
        }

        var read = await client.ReadResourceAsync("brummerq://channels/r", cancellationToken: TestContext.Current.CancellationToken);

        using var json = JsonDocument.Parse(Assert.IsType<TextResourceContents>(Assert.Single(read.Contents)).Text);
        Assert.Equal(3, json.RootElement.GetProperty("messages").GetInt32());
        Assert.Equal([1, 2, 3], json.RootElement.GetProperty("newest").EnumerateArray().Select(m => m.GetProperty("payload").GetInt32()));
        Assert.Equal(3, host.Queue.GetStats().TotalMessages);
    }

    [Fact]
    public async Task ReadSubscription_Known_ShowsStateWithoutReading()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        var id = (await client.CallOkAsync("queue_subscribe", """{"channel":"s","buffer_size":5}""")).GetProperty("subscription_id").GetString();
        await client.CallOkAsync("queue_send", """{"channel":"s"}""");

        var read = await client.ReadResourceAsync("brummerq://subscriptions/" + id, cancellationToken: TestContext.Current.CancellationToken);
        var received = await client.CallOkAsync("queue_receive", $$"""{"subscription_id":"{{id}}"}""");

        using var json = JsonDocument.Parse(Assert.IsType<TextResourceContents>(Assert.Single(read.Contents)).Text);
        Assert.Equal("s", json.RootElement.GetProperty("channel").GetString());
        Assert.Equal(5, json.RootElement.GetProperty("buffer_size").GetInt32());
        Assert.Equal(1, received.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task ReadResource_Unknown_IsProtocolErrorNamingUri()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);

        var error = await Assert.ThrowsAsync<McpProtocolException>(async () =>
            await client.ReadResourceAsync("brummerq://subscriptions/nope", cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("brummerq://subscriptions/nope", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("brummerq://subscriptions/nope", McpErrorCode.ResourceNotFound)]
    [InlineData("brummerq://channels/bad%20name!", McpErrorCode.InvalidParams)]
    [InlineData("brummerq://channels/", McpErrorCode.InvalidParams)]
    [InlineData("brummerq://nope/x", McpErrorCode.ResourceNotFound)]
    [InlineData("https://example.com/", McpErrorCode.ResourceNotFound)]
    public async Task ReadOrSubscribeResource_BadUri_AnswersErrorAndLogsNothingAboveDebug(string uri, McpErrorCode code)
    {
        var logs = new LogCapture();
        await using var host = await TestServerHost.StartInProcessAsync(configure: logs.InstallWithDebug);
        await using var client = await McpTestClient.ConnectAsync(host);

        var read = await Assert.ThrowsAsync<McpProtocolException>(async () =>
            await client.ReadResourceAsync(uri, cancellationToken: TestContext.Current.CancellationToken));
        var subscribe = await Assert.ThrowsAsync<McpProtocolException>(async () =>
            await client.SubscribeToResourceAsync(uri, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(code, read.ErrorCode);
        Assert.Equal(code, subscribe.ErrorCode);
        Assert.Contains(uri, read.Message, StringComparison.Ordinal);
        Assert.Empty(logs.RequestLogs());
        Assert.Empty(logs.Faults());
        var lines = logs.WithEventId(McpLogEvents.RequestRefused);
        Assert.Equal(["resources/read", "resources/subscribe"], lines.Select(l => l.Message[..l.Message.IndexOf(' ', StringComparison.Ordinal)]));
        Assert.All(lines, l => Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, l.Level));
    }

    [Fact]
    public async Task SubscribeChannelResource_SendFromOtherSession_NotifiesUpdated()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var watcher = await McpTestClient.ConnectAsync(host);
        await using var sender = await McpTestClient.ConnectAsync(host);
        var updated = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        await using var subscription = await watcher.SubscribeToResourceAsync(
            "brummerq://channels/news",
            (update, _) => { updated.TrySetResult(update.Uri); return ValueTask.CompletedTask; },
            cancellationToken: TestContext.Current.CancellationToken);
        await sender.CallOkAsync("queue_send", """{"channel":"other"}""");
        var uri = await UntilNotifiedAsync(updated.Task, () => sender.CallOkAsync("queue_send", """{"channel":"news","payload":"hot"}"""));

        Assert.Equal("brummerq://channels/news", uri);
    }

    [Fact]
    public async Task SubscribeSubscriptionResource_MessageArrives_NotifiesUpdated()
    {
        await using var host = await TestServerHost.StartInProcessAsync();
        await using var client = await McpTestClient.ConnectAsync(host);
        var id = (await client.CallOkAsync("queue_subscribe", """{"channel":"inbox"}""")).GetProperty("subscription_id").GetString();
        var uri = "brummerq://subscriptions/" + id;
        var updated = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        await using var subscription = await client.SubscribeToResourceAsync(
            uri,
            (update, _) => { updated.TrySetResult(update.Uri); return ValueTask.CompletedTask; },
            cancellationToken: TestContext.Current.CancellationToken);
        var notified = await UntilNotifiedAsync(updated.Task, () => Task.FromResult(host.Queue.Send("inbox", default)));

        Assert.Equal(uri, notified);
    }

    /// <summary>
    /// Sends (with <paramref name="send"/>) until the notification arrives, failing after 10 seconds. Over Streamable
    /// HTTP a notification travels on the client's GET stream, which the SDK client opens in the background after
    /// connecting; a message sent before that stream is up is not announced (no event store), so the test repeats it.
    /// </summary>
    private static async Task<string> UntilNotifiedAsync<T>(Task<string> notified, Func<Task<T>> send)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (!notified.IsCompleted)
        {
            timeout.Token.ThrowIfCancellationRequested();
            await send();
            await Task.WhenAny(notified, Task.Delay(200, timeout.Token));
        }

        return await notified;
    }
}
