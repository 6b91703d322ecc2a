using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace BrummerQueue.Core;

/// <summary>
/// The payload rule of SPEC.md section 1, the one place it is written: exactly one JSON value, valid
/// UTF-8 text, no escaped lone surrogate (<c>\uD800</c>–<c>\uDFFF</c> not in a high-low pair), nested at
/// most <see cref="QueueOptions.MaxPayloadDepth"/> levels counted from the payload itself. The engine
/// checks it once per send (<see cref="IMessageQueue.Send"/>) for every face; faces hand over the
/// sender's bytes unchanged and apply no payload rule of their own. Stateless and thread-safe.
/// </summary>
internal static class PayloadRule
{
    /// <summary>The field every refusal names.</summary>
    public const string Field = "payload";

    /// <summary>The payload is not exactly one JSON value.</summary>
    public const string NotJson = "payload must be a single valid JSON value";

    /// <summary>The payload is not UTF-8 text; followed by where.</summary>
    public const string NotUtf8 = "payload must be valid UTF-8";

    /// <summary>The payload holds an escaped surrogate that is not half of a high-low pair; the escape and where follow.</summary>
    public const string UnpairedSurrogate = "payload contains an unpaired surrogate escape";

    /// <summary>How to write a character outside the Basic Multilingual Plane; ends the surrogate refusal.</summary>
    public const string SurrogateHint = "a character above U+FFFF is escaped as a high-low pair such as \\ud83d\\ude00, or written as UTF-8";

    /// <summary>The setting that bounds nesting, named in the depth refusal.</summary>
    public const string DepthSetting = "max_payload_depth";

    /// <summary>
    /// Checks <paramref name="utf8"/> against the rule in one pass (a vectorized UTF-8 check, then one
    /// reader pass that also looks into the escapes of the strings that have any). Allocates nothing
    /// for a payload within 64 levels.
    /// </summary>
    /// <exception cref="QueueException"><c>invalid_argument</c> on field <c>payload</c> naming the broken clause.</exception>
    public static void Check(ReadOnlySpan<byte> utf8, int maxDepth)
    {
        if (!Utf8.IsValid(utf8))
        {
            throw InvalidUtf8(utf8);
        }

        try
        {
            // One more level than allowed, so that the reader hands the first level too deep to this
            // loop (which names it) instead of failing with its own words.
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = maxDepth + 1 });
            if (!reader.Read())
            {
                throw QueueException.Invalid(Field, NotJson);
            }

            do
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray when reader.CurrentDepth >= maxDepth:
                        throw TooDeep(maxDepth, reader.TokenStartIndex);
                    case JsonTokenType.String or JsonTokenType.PropertyName when reader.ValueIsEscaped:
                        // The value starts after its opening quote.
                        CheckSurrogateEscapes(reader.ValueSpan, (int)reader.TokenStartIndex + 1);
                        break;
                }
            }
            while (reader.Read());
        }
        catch (JsonException)
        {
            throw QueueException.Invalid(Field, NotJson);
        }
    }

    /// <summary>The refusal for a payload nested deeper than <paramref name="maxDepth"/>; <paramref name="at"/> is where the first level too many opens.</summary>
    public static QueueException TooDeep(int maxDepth, long at) =>
        QueueException.Invalid(Field, $"payload is nested more than {maxDepth} levels deep (level {maxDepth + 1} opens at byte {at}); the limit is {maxDepth} ({DepthSetting})");

    /// <summary>Finds <c>\uXXXX</c> escapes of surrogates in a raw (still escaped) string value and throws for the first one not in a high-low pair.</summary>
    private static void CheckSurrogateEscapes(ReadOnlySpan<byte> escaped, int offset)
    {
        // The reader has already checked the escape syntax: every backslash starts a valid escape.
        var i = escaped.IndexOf((byte)'\\');
        while (i >= 0 && i < escaped.Length)
        {
            if (escaped[i + 1] != (byte)'u')
            {
                i = Next(escaped, i + 2);
                continue;
            }

            var unit = Hex4(escaped.Slice(i + 2, 4));
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (i + 12 <= escaped.Length && escaped[i + 6] == (byte)'\\' && escaped[i + 7] == (byte)'u' && Hex4(escaped.Slice(i + 8, 4)) is >= 0xDC00 and <= 0xDFFF)
                {
                    i = Next(escaped, i + 12);
                    continue;
                }

                throw Unpaired(escaped.Slice(i, 6), offset + i);
            }

            if (unit is >= 0xDC00 and <= 0xDFFF)
            {
                throw Unpaired(escaped.Slice(i, 6), offset + i);
            }

            i = Next(escaped, i + 6);
        }
    }

    private static int Next(ReadOnlySpan<byte> escaped, int from)
    {
        if (from >= escaped.Length)
        {
            return -1;
        }

        var next = escaped[from..].IndexOf((byte)'\\');
        return next < 0 ? -1 : from + next;
    }

    private static int Hex4(ReadOnlySpan<byte> hex)
    {
        var value = 0;
        foreach (var b in hex)
        {
            value = (value << 4) | HexDigit(b);
        }

        return value;
    }

    private static int HexDigit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        _ => b - 'A' + 10,
    };

    private static QueueException Unpaired(ReadOnlySpan<byte> escape, int at) =>
        QueueException.Invalid(Field, $"{UnpairedSurrogate} {Encoding.ASCII.GetString(escape)} at byte {at}; {SurrogateHint}");

    private static QueueException InvalidUtf8(ReadOnlySpan<byte> utf8)
    {
        var at = 0;
        while (at < utf8.Length && Rune.DecodeFromUtf8(utf8[at..], out _, out var consumed) == OperationStatus.Done)
        {
            at += consumed;
        }

        var value = at < utf8.Length ? "0x" + utf8[at].ToString("X2", CultureInfo.InvariantCulture) : "the end";
        return QueueException.Invalid(Field, $"{NotUtf8}: byte {at} ({value}) does not start a valid UTF-8 sequence");
    }
}
