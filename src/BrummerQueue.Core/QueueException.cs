namespace BrummerQueue.Core;

/// <summary>
/// A request the queue refused: a broken argument rule, a full queue, a limit, an unknown subscription.
/// The message names the field and the rule and is fit to show a user; nothing already stored is lost.
/// </summary>
public sealed class QueueException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">One of <see cref="QueueErrorCodes"/>.</param>
    /// <param name="field">The wire name of the argument at fault (e.g. <c>ttl</c>), or null.</param>
    /// <param name="message">What is wrong, naming the field and the rule.</param>
    public QueueException(string code, string? field, string message)
        : base(message)
    {
        Code = code;
        Field = field;
    }

    /// <summary>One of <see cref="QueueErrorCodes"/>.</summary>
    public string Code { get; }

    /// <summary>The wire name of the argument at fault, or null when no single argument is.</summary>
    public string? Field { get; }

    /// <summary>
    /// For a refusal by a limit, the setting that sets it (e.g. <c>MaxChannels</c>, a <see cref="QueueOptions"/>
    /// or host option name); null for every other refusal. Hosts count limit hits by it.
    /// </summary>
    public string? Limit { get; private init; }

    /// <summary>
    /// A refusal by the limit <paramref name="setting"/>. The message is the code, <paramref name="message"/>, and the
    /// setting with how to raise it (<see cref="SettingNames.RaiseHint"/>), e.g. <c>queue_full: ... (limit MaxChannels:
    /// raise it with --max-channels or BRUMMERQ_MAX_CHANNELS)</c>, so that a reader of the text alone (a model reading an
    /// MCP tool error) sees the code too.
    /// </summary>
    public static QueueException LimitReached(string code, string? field, string setting, string message) =>
        new(code, field, $"{code}: {message} ({SettingNames.RaiseHint(setting)})") { Limit = setting };

    /// <summary>An <see cref="QueueErrorCodes.InvalidArgument"/> error for <paramref name="field"/>.</summary>
    public static QueueException Invalid(string field, string message) => new(QueueErrorCodes.InvalidArgument, field, message);

    /// <summary>The standard "must be an integer between" error for <paramref name="field"/>.</summary>
    public static QueueException OutOfRange(string field, long min, long max) =>
        Invalid(field, $"{field} must be an integer between {min} and {max}");
}
