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
    /// Checks <paramref name="utf8"/> against the rule. The common payload, ASCII without a backslash,
    /// takes one vectorized scan and one scalar pass over its structure (<see cref="IsPlainAndValid"/>);
    /// every other payload, and every payload the fast pass does not accept, takes the full pass
    /// (<see cref="CheckFull"/>), which names the broken clause. Allocates nothing for a payload within
    /// 64 levels.
    /// </summary>
    /// <exception cref="QueueException"><c>invalid_argument</c> on field <c>payload</c> naming the broken clause.</exception>
    public static void Check(ReadOnlySpan<byte> utf8, int maxDepth)
    {
        if (!IsPlainAndValid(utf8, maxDepth))
        {
            CheckFull(utf8, maxDepth);
        }
    }

    /// <summary>
    /// The fast pass. True when <paramref name="utf8"/> is plain (every byte ASCII, no backslash) and is
    /// exactly one JSON value nested at most <paramref name="maxDepth"/> (and at most 64) levels; then it
    /// keeps the whole rule: ASCII is valid UTF-8, and without a backslash there is no escape, so no
    /// escaped surrogate. False when the payload is not plain, breaks the rule, or is nested deeper than
    /// 64 levels: the full pass then decides and words the refusal. Without a backslash a string ends
    /// at the next quote, so its content is skipped, checked only for control characters.
    /// </summary>
    internal static bool IsPlainAndValid(ReadOnlySpan<byte> utf8, int maxDepth)
    {
        if (!Ascii.IsValid(utf8) || utf8.Contains((byte)'\\'))
        {
            return false;
        }

        var limit = Math.Min(maxDepth, 64);

        // Bit d is set when the container at level d + 1 is an object, clear when it is an array.
        var objects = 0UL;
        var depth = 0;
        var i = 0;

        // A value: the top-level one, an array element, or a member's value after its colon.
    Value:
        i = SkipWhitespace(utf8, i);
        if (i == utf8.Length)
        {
            return false;
        }

        switch (utf8[i])
        {
            case (byte)'"':
                i = EndOfString(utf8, i);
                break;
            case (byte)'{':
                if (depth == limit)
                {
                    return false;
                }

                objects |= 1UL << depth;
                depth++;
                i = SkipWhitespace(utf8, i + 1);
                if (i < utf8.Length && utf8[i] == (byte)'}')
                {
                    depth--;
                    i++;
                    goto Next;
                }

                goto Name;
            case (byte)'[':
                if (depth == limit)
                {
                    return false;
                }

                objects &= ~(1UL << depth);
                depth++;
                i = SkipWhitespace(utf8, i + 1);
                if (i < utf8.Length && utf8[i] == (byte)']')
                {
                    depth--;
                    i++;
                    goto Next;
                }

                goto Value;
            case (byte)'t':
                i = EndOfLiteral(utf8, i, "true"u8);
                break;
            case (byte)'f':
                i = EndOfLiteral(utf8, i, "false"u8);
                break;
            case (byte)'n':
                i = EndOfLiteral(utf8, i, "null"u8);
                break;
            default:
                i = EndOfNumber(utf8, i);
                break;
        }

        if (i < 0)
        {
            return false;
        }

        // After a value: a comma or the close of its container, or the end of the text after the top-level value.
    Next:
        i = SkipWhitespace(utf8, i);
        if (depth == 0)
        {
            return i == utf8.Length;
        }

        if (i == utf8.Length)
        {
            return false;
        }

        var inObject = ((objects >> (depth - 1)) & 1) != 0;
        if (utf8[i] == (byte)',')
        {
            i++;
            if (inObject)
            {
                goto Name;
            }

            goto Value;
        }

        if (utf8[i] != (inObject ? (byte)'}' : (byte)']'))
        {
            return false;
        }

        depth--;
        i++;
        goto Next;

        // A member name and its colon.
    Name:
        i = SkipWhitespace(utf8, i);
        if (i == utf8.Length || utf8[i] != (byte)'"')
        {
            return false;
        }

        i = SkipWhitespace(utf8, EndOfString(utf8, i));
        if (i < 0 || i == utf8.Length || utf8[i] != (byte)':')
        {
            return false;
        }

        i++;
        goto Value;
    }

    /// <summary>
    /// The full pass: a vectorized UTF-8 check, then one reader pass that also looks into the escapes
    /// of the strings that have any. Decides every payload and names the first broken clause.
    /// </summary>
    /// <exception cref="QueueException"><c>invalid_argument</c> on field <c>payload</c> naming the broken clause.</exception>
    internal static void CheckFull(ReadOnlySpan<byte> utf8, int maxDepth)
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

    /// <summary>Index of the first byte at or after <paramref name="from"/> that is not JSON whitespace; the length if none (or -1 stays -1).</summary>
    private static int SkipWhitespace(ReadOnlySpan<byte> utf8, int from)
    {
        while ((uint)from < (uint)utf8.Length && utf8[from] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
        {
            from++;
        }

        return from;
    }

    /// <summary>Index just past the string opening at <paramref name="quote"/> in a plain payload; -1 when it is unterminated or holds a control character.</summary>
    private static int EndOfString(ReadOnlySpan<byte> utf8, int quote)
    {
        for (var i = quote + 1; i < utf8.Length; i++)
        {
            var b = utf8[i];
            if (b == (byte)'"')
            {
                return i + 1;
            }

            if (b < 0x20)
            {
                return -1;
            }
        }

        return -1;
    }

    private static int EndOfLiteral(ReadOnlySpan<byte> utf8, int start, ReadOnlySpan<byte> literal) =>
        utf8[start..].StartsWith(literal) ? start + literal.Length : -1;

    /// <summary>Index just past the number starting at <paramref name="start"/> (<c>-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?</c>); -1 when none starts there.</summary>
    private static int EndOfNumber(ReadOnlySpan<byte> utf8, int start)
    {
        var i = start;
        if (i < utf8.Length && utf8[i] == (byte)'-')
        {
            i++;
        }

        if (i < utf8.Length && utf8[i] == (byte)'0')
        {
            i++;
        }
        else if (!Digits(utf8, ref i))
        {
            return -1;
        }

        if (i < utf8.Length && utf8[i] == (byte)'.')
        {
            i++;
            if (!Digits(utf8, ref i))
            {
                return -1;
            }
        }

        if (i < utf8.Length && utf8[i] is (byte)'e' or (byte)'E')
        {
            i++;
            if (i < utf8.Length && utf8[i] is (byte)'+' or (byte)'-')
            {
                i++;
            }

            if (!Digits(utf8, ref i))
            {
                return -1;
            }
        }

        return i;
    }

    /// <summary>Moves <paramref name="i"/> past a run of digits; false when there is none.</summary>
    private static bool Digits(ReadOnlySpan<byte> utf8, ref int i)
    {
        var start = i;
        while (i < utf8.Length && char.IsAsciiDigit((char)utf8[i]))
        {
            i++;
        }

        return i > start;
    }

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
