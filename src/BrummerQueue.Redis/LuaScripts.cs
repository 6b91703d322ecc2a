using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace BrummerQueue.Redis;

/// <summary>
/// The store's Lua scripts, one per operation (each atomic and one round trip), with the shared functions of
/// <c>common.lua</c> prepended. They run by <c>EVALSHA</c>; a server that does not know a script (restarted, or
/// flushed with <c>SCRIPT FLUSH</c>) answers <c>NOSCRIPT</c>, and the script is then sent whole with <c>EVAL</c>,
/// which loads it again. Immutable and thread-safe.
/// </summary>
internal sealed class LuaScripts
{
    private LuaScripts(string name)
    {
        Text = Read("common") + "\n" + Read(name);
        // SHA-1 is how Redis names a script (EVALSHA); no security rests on it.
#pragma warning disable CA5350
        Sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(Text));
#pragma warning restore CA5350
    }

    public static LuaScripts Send { get; } = new("send");

    public static LuaScripts Receive { get; } = new("receive");

    public static LuaScripts PutBack { get; } = new("putback");

    public static LuaScripts Subscribe { get; } = new("subscribe");

    public static LuaScripts ReadSubscription { get; } = new("readsub");

    public static LuaScripts PeekSubscription { get; } = new("peeksub");

    public static LuaScripts TakeDropped { get; } = new("takedropped");

    public static LuaScripts PutBackSubscription { get; } = new("putbacksub");

    public static LuaScripts Unsubscribe { get; } = new("unsubscribe");

    public static LuaScripts Touch { get; } = new("touch");

    public static LuaScripts Sweep { get; } = new("sweep");

    public static LuaScripts Figures { get; } = new("figures");

    public static LuaScripts OpenInbox { get; } = new("openinbox");

    public static LuaScripts Reply { get; } = new("reply");

    public static LuaScripts CloseInbox { get; } = new("closeinbox");
    public static LuaScripts SubscribePattern { get; } = new("psubscribe");

    public static LuaScripts UnsubscribePattern { get; } = new("punsubscribe");

    public static LuaScripts Lease { get; } = new("lease");

    public static LuaScripts Ack { get; } = new("ack");

    public static LuaScripts ExpireLeases { get; } = new("expire");

    /// <summary>The whole script text.</summary>
    public string Text { get; }

    /// <summary>The SHA-1 digest Redis names the script by.</summary>
    public byte[] Sha1 { get; }

    /// <summary>Runs the script; one round trip unless the server has to be given the script again.</summary>
    public RedisResult Evaluate(IDatabase db, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return db.ScriptEvaluate(Sha1, keys, values);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return db.ScriptEvaluate(Text, keys, values);
        }
    }

    /// <summary>Runs the script asynchronously, as <see cref="Evaluate"/>.</summary>
    public async Task<RedisResult> EvaluateAsync(IDatabase db, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await db.ScriptEvaluateAsync(Sha1, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await db.ScriptEvaluateAsync(Text, keys, values).ConfigureAwait(false);
        }
    }

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"BrummerQueue.Redis.Scripts.{name}.lua")
            ?? throw new InvalidOperationException($"script {name}.lua is not embedded");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
