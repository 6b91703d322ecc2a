namespace BrummerQueue.Redis;

/// <summary>Event ids of the Redis store's log messages, in one place (range 4400–4499).</summary>
internal static class RedisLogEvents
{
    public const int ConnectionFailed = 4400;
    public const int ConnectionRestored = 4401;
    public const int NotAnswering = 4402;
    public const int AnswersAgain = 4403;
    public const int CallFailed = 4404;
}
