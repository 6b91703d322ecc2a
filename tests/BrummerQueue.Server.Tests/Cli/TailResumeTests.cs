using System.Globalization;
using System.Text.Json;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace BrummerQueue.Server.Tests.Cli;

/// <summary>
/// <c>brummerq tail</c> across reconnects (SPEC.md §1 "Resume"): it keeps (epoch, last seq printed), resumes after it when
/// the server is back, and prints a <c>gap:</c> line on stderr when the server says <c>recovered: false</c>.
/// </summary>
public sealed class TailResumeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Tail_ServerRestartsWithANewEpoch_PrintsAGapLineAndTheNewBacklog()
    {
        using var firstQueue = MessageQueue.CreateInMemory();
        using var restartedQueue = MessageQueue.CreateInMemory();
        await using var first = new AsyncSlot { Host = await StartAsync(0, firstQueue) };
        var port = first.Host.BaseAddress.Port;
        await using var second = new AsyncSlot();
        var output = new LineCapture();
        var error = new LineCapture();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var tail = CliRunner.StartAsync(output, error, stop.Token, "tail", "t", "--url", first.Host.BaseAddress.ToString());
        Assert.Contains("following 't'", await error.NextLineAsync(), StringComparison.Ordinal);
        firstQueue.Send("t", new MessageDraft(Payload: JsonPayload.Parse("1")));
        firstQueue.Send("t", new MessageDraft(Payload: JsonPayload.Parse("2")));
        var before = new[] { await output.NextLineAsync(), await output.NextLineAsync() };
        Assert.Equal([1L, 2L], before.Select(SeqOf));
        var oldEpoch = Assert.Single(firstQueue.ListChannels()).Epoch;

        await first.DisposeAsync();
        Assert.Contains("reconnecting", await error.NextLineAsync(), StringComparison.Ordinal);
        restartedQueue.Send("t", new MessageDraft(Payload: JsonPayload.Parse("10")));
        restartedQueue.Send("t", new MessageDraft(Payload: JsonPayload.Parse("20")));
        var newEpoch = Assert.Single(restartedQueue.ListChannels()).Epoch;
        second.Host = await StartAsync(port, restartedQueue);

        Assert.Contains($"epoch {newEpoch}", await error.NextLineAsync(), StringComparison.Ordinal);
        var gap = await error.NextLineAsync();
        Assert.StartsWith("brummerq tail: gap: channel 't' was made again", gap, StringComparison.Ordinal);
        Assert.Contains($"epoch {oldEpoch} is gone, now {newEpoch}", gap, StringComparison.Ordinal);
        var replayed = new[] { await output.NextLineAsync(), await output.NextLineAsync() };
        Assert.Equal(["1 10", "2 20"], replayed.Select(l => $"{SeqOf(l)} {PayloadOf(l)}"));

        await stop.CancelAsync();
        Assert.Equal(0, await tail.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(
            $"brummerq tail: stopped at epoch {newEpoch} seq 2; resume with: brummerq tail t --epoch {newEpoch} --since-seq 2",
            await error.NextLineAsync());
    }

    [Fact]
    public async Task Tail_ServerBackWithTheSameQueue_ResumesAfterTheLastPrintedWithoutAGap()
    {
        using var queue = MessageQueue.CreateInMemory();
        await using var first = new AsyncSlot { Host = await StartAsync(0, queue) };
        var port = first.Host.BaseAddress.Port;
        await using var second = new AsyncSlot();
        var output = new LineCapture();
        var error = new LineCapture();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        // Messages before the tail started are not printed, even after a reconnect before the first new one.
        queue.Send("t", new MessageDraft(Payload: JsonPayload.Parse("0")));
        var tail = CliRunner.StartAsync(output, error, stop.Token, "tail", "t", "--url", first.Host.BaseAddress.ToString());
        Assert.Contains("following 't'", await error.NextLineAsync(), StringComparison.Ordinal);
        await first.DisposeAsync();
        Assert.Contains("reconnecting", await error.NextLineAsync(), StringComparison.Ordinal);
        queue.Send("t", new MessageDraft(Payload: JsonPayload.Parse("1")));
        queue.Send("t", new MessageDraft(Payload: JsonPayload.Parse("2")));
        second.Host = await StartAsync(port, queue);

        Assert.Contains("following 't'", await error.NextLineAsync(), StringComparison.Ordinal);
        queue.Send("t", new MessageDraft(Payload: JsonPayload.Parse("3")));
        var printed = new[] { await output.NextLineAsync(), await output.NextLineAsync(), await output.NextLineAsync() };
        Assert.Equal([2L, 3L, 4L], printed.Select(SeqOf));

        await stop.CancelAsync();
        Assert.Equal(0, await tail.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.DoesNotContain("gap:", error.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tail_MessagesConsumedWhileAway_PrintsAGapLineAndWhatIsRetained()
    {
        using var queue = MessageQueue.CreateInMemory();
        await using var first = new AsyncSlot { Host = await StartAsync(0, queue) };
        var port = first.Host.BaseAddress.Port;
        await using var second = new AsyncSlot();
        var output = new LineCapture();
        var error = new LineCapture();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var tail = CliRunner.StartAsync(output, error, stop.Token, "tail", "t", "--url", first.Host.BaseAddress.ToString());
        Assert.Contains("following 't'", await error.NextLineAsync(), StringComparison.Ordinal);
        queue.Send("t", new MessageDraft(Payload: JsonPayload.Parse("1")));
        Assert.Equal(1L, SeqOf(await output.NextLineAsync()));

        await first.DisposeAsync();
        Assert.Contains("reconnecting", await error.NextLineAsync(), StringComparison.Ordinal);
        queue.Send("t", new MessageDraft(Payload: JsonPayload.Parse("2")));
        queue.Send("t", new MessageDraft(Payload: JsonPayload.Parse("3")));
        Assert.Equal(2, queue.Receive("t", 2, peek: false, new List<QueueMessage>()));
        second.Host = await StartAsync(port, queue);

        Assert.Contains("following 't'", await error.NextLineAsync(), StringComparison.Ordinal);
        Assert.Equal(
            "brummerq tail: gap: messages after seq 1 were consumed, evicted or expired before they could be printed; printing what is still retained",
            await error.NextLineAsync());
        Assert.Equal(3L, SeqOf(await output.NextLineAsync()));

        await stop.CancelAsync();
        Assert.Equal(0, await tail.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task Tail_SinceSeqWithAnotherEpoch_PrintsAGapLineAndTheWholeBacklog()
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();
        host.Queue.Send("t", new MessageDraft(Payload: JsonPayload.Parse("1")));
        var output = new LineCapture();
        var error = new LineCapture();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var tail = CliRunner.StartAsync(output, error, stop.Token, "tail", "t", "--since-seq", "7", "--epoch", "gone1234", "--url", host.BaseAddress.ToString());

        Assert.Contains("following 't'", await error.NextLineAsync(), StringComparison.Ordinal);
        Assert.Contains("gap: channel 't' was made again (epoch gone1234 is gone", await error.NextLineAsync(), StringComparison.Ordinal);
        Assert.Equal(1L, SeqOf(await output.NextLineAsync()));
        await stop.CancelAsync();
        Assert.Equal(0, await tail.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Theory]
    [InlineData("--epoch", "abc", "epoch needs since_seq")]
    [InlineData("--since-seq", "1", "--epoch", "NOT-VALID", "epoch must be 1-32 characters from a-z 0-9")]
    public async Task Tail_BadEpoch_PrintsTheServersRuleAndFails(params string[] args)
    {
        await using var host = await TestServerHost.StartOnLoopbackAsync();

        var (exitCode, _, error) = await CliRunner.RunAsync(["tail", "t", .. args[..^1], "--url", host.BaseAddress.ToString()]);

        Assert.Equal(2, exitCode); // A bad argument is the usage exit code, whichever side refuses it.
        Assert.Contains(args[^1], error.Text, StringComparison.Ordinal);
    }

    private static Task<TestServerHost> StartAsync(int port, IMessageQueue queue) =>
        TestServerHost.StartOnLoopbackAsync(
            new()
            {
                [$"{ServerOptions.SectionName}:Port"] = port.ToString(CultureInfo.InvariantCulture),
                ["Logging:LogLevel:Default"] = "Warning",
            },
            builder => builder.Services.AddSingleton(queue));

    private static long SeqOf(string line)
    {
        using var message = JsonDocument.Parse(line);
        return message.RootElement.GetProperty("seq").GetInt64();
    }

    private static string PayloadOf(string line)
    {
        using var message = JsonDocument.Parse(line);
        return message.RootElement.GetProperty("payload").GetRawText();
    }

    /// <summary>A host that a test stops (disposes) part-way or starts late; disposed with the test if still running.</summary>
    private sealed class AsyncSlot : IAsyncDisposable
    {
        public TestServerHost? Host { get; set; }

        public async ValueTask DisposeAsync()
        {
            if (Host is not null)
            {
                await Host.DisposeAsync();
                Host = null;
            }
        }
    }
}
