using System.Text;
using System.Threading.Channels;

namespace BrummerQueue.Server.Tests.Cli;

/// <summary>A <see cref="TextWriter"/> for a command's output that keeps the text and lets a test await each line.</summary>
public sealed class LineCapture : TextWriter
{
    private readonly Lock _lock = new();
    private readonly StringBuilder _all = new();
    private readonly StringBuilder _line = new();
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    public override Encoding Encoding => Encoding.UTF8;

    public string Text
    {
        get
        {
            lock (_lock)
            {
                return _all.ToString();
            }
        }
    }

    public override void Write(char value)
    {
        lock (_lock)
        {
            _all.Append(value);
            if (value == '\n')
            {
                _lines.Writer.TryWrite(_line.ToString().TrimEnd('\r'));
                _line.Clear();
            }
            else
            {
                _line.Append(value);
            }
        }
    }

    /// <summary>The next complete line; fails the test when none comes in time.</summary>
    public async Task<string> NextLineAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        return await _lines.Reader.ReadAsync(timeout.Token);
    }
}
