using System.Globalization;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests.Cli;

/// <summary><c>brummerq tail 'app.&gt;'</c> (issue 13 point 2): a pattern follows every matching channel, new ones included, and names each message's channel.</summary>
public sealed class TailPatternTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Tail_Pattern_PrintsEveryMatchingChannelsMessagesAndFollowsNewChannels()
    {
        using var queue = MessageQueue.CreateInMemory();
        await using var host = await StartAsync(0, queue);
        queue.Send("app.old", new MessageDraft(Payload: JsonPayload.Parse("0")));
        var output = new LineCapture();
        var error = new LineCapture();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var tail = CliRunner.StartAsync(output, error, stop.Token, "tail", "app.>", "--url", host.BaseAddress.ToString());
        Assert.Contains("following pattern 'app.>'", await error.NextLineAsync(), StringComparison.Ordinal);

        queue.Send("app.old", new MessageDraft(Payload: JsonPayload.Parse("1")));
        queue.Send("other", new MessageDraft(Payload: JsonPayload.Parse("2")));
        queue.Send("app.new.deep", new MessageDraft(Payload: JsonPayload.Parse("3")));
        var printed = new[] { await output.NextLineAsync(), await output.NextLineAsync() };
        Assert.Equal(["app.old 2 1", "app.new.deep 1 3"], printed.Select(Describe));

        await stop.CancelAsync();
        Assert.Equal(0, await tail.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.DoesNotContain("gap:", error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tail_PatternServerBack_ResubscribesAndPrintsAGapLine()
    {
        using var queue = MessageQueue.CreateInMemory();
        var first = await StartAsync(0, queue);
        var port = first.BaseAddress.Port;
        var output = new LineCapture();
        var error = new LineCapture();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var tail = CliRunner.StartAsync(output, error, stop.Token, "tail", "app.*", "--url", first.BaseAddress.ToString());
        Assert.Contains("following pattern 'app.*'", await error.NextLineAsync(), StringComparison.Ordinal);
        await first.DisposeAsync();
        Assert.Contains("reconnecting", await error.NextLineAsync(), StringComparison.Ordinal);

        await using var second = await StartAsync(port, queue);
        Assert.Contains("following pattern 'app.*'", await error.NextLineAsync(), StringComparison.Ordinal);
        Assert.Contains("gap: resubscribed to the pattern", await error.NextLineAsync(), StringComparison.Ordinal);
        queue.Send("app.x", new MessageDraft(Payload: JsonPayload.Parse("5")));
        Assert.Equal("app.x 1 5", Describe(await output.NextLineAsync()));

        await stop.CancelAsync();
        Assert.Equal(0, await tail.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task Tail_PatternWithSinceSeq_PrintsWhyAndFails()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();

        var (exitCode, _, error) = await CliRunner.RunAsync(["tail", "app.>", "--since-seq", "0", "--url", host.BaseAddress.ToString()]);

        Assert.Equal(2, exitCode);
        Assert.Contains("since_seq is not allowed with a pattern channel", error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tail_BrokenPattern_PrintsTheRuleAndFails()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();

        var (exitCode, _, error) = await CliRunner.RunAsync(["tail", "app.>.x", "--url", host.BaseAddress.ToString()]);

        Assert.Equal(2, exitCode);
        Assert.Contains("'>' only as the whole last token", error.Text, StringComparison.Ordinal);
    }

    private static Task<TestServerHost> StartAsync(int port, IMessageQueue queue) =>
        TestServerHost.StartOnLoopbackAsync(
            new()
            {
                [$"{ServerOptions.SectionName}:Port"] = port.ToString(CultureInfo.InvariantCulture),
                ["Logging:LogLevel:Default"] = "Warning",
            },
            builder => builder.Services.AddSingleton(queue));

    private static string Describe(string line)
    {
        using var message = JsonDocument.Parse(line);
        var root = message.RootElement;
        return $"{root.GetProperty("channel").GetString()} {root.GetProperty("seq").GetInt64()} {root.GetProperty("payload").GetRawText()}";
    }
}
