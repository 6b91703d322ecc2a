using System.Text;
using CsCheck;

namespace BrummerQueue.Core.Tests.Payload;

/// <summary>
/// The two passes of <see cref="PayloadRule"/>: the fast pass over plain payloads (ASCII without a backslash)
/// must accept exactly the plain payloads the full reader pass accepts, and hand every other payload to it.
/// </summary>
public sealed class PayloadRuleTests
{
    public static TheoryData<string> ValidPlain =>
    [
        "0", "-0", "12", "-0.5e+10", "1E5", "3.25e-2", "true", "false", "null", "\"\"", "\"x\u007f\"",
        " [ 1 , 2 ]\r\n\t", "{}", "[]", "[[],{}]", "{\"a\":{\"b\":[true,false,null]}}", "{ \"a\" : 1 , \"b\" : \"c\" }",
        """{"user":"ada","action":"click","x":12,"y":340}""",
    ];

    public static TheoryData<string> InvalidPlain =>
    [
        "", " ", "{\"a\" 1}", "{\"a\":}", "[1,]", "{,}", "{\"a\":1,}", "[,1]", "01", "-01", "1.", ".5", "+1", "-", "1e", "1e+",
        "tru", "nul", "truex", "[true false]", "\"a", "\"a\u0001\"", "[1 2]", "{\"a\":1}}", "]", "{\"a\"}", "[}", "{]", "[1]x",
        "1 2", "{1:2}", "[\"a\":1]", "{\"a\":1 \"b\":2}", "/* c */ 1", "[1]/",
    ];

    [Theory]
    [MemberData(nameof(ValidPlain))]
    public void IsPlainAndValid_ValidPlainPayload_AcceptedByBothPasses(string json)
    {
        var utf8 = Encoding.UTF8.GetBytes(json);
        Assert.True(PayloadRule.IsPlainAndValid(utf8, 64));
        PayloadRule.CheckFull(utf8, 64);
    }

    [Theory]
    [MemberData(nameof(InvalidPlain))]
    public void IsPlainAndValid_InvalidPlainPayload_LeftToTheFullPassWhichRefusesIt(string json)
    {
        var utf8 = Encoding.UTF8.GetBytes(json);
        Assert.False(PayloadRule.IsPlainAndValid(utf8, 64));
        var error = Assert.Throws<QueueException>(() => PayloadRule.Check(utf8, 64));
        Assert.Equal(PayloadRule.Field, error.Field);
        Assert.Contains(PayloadRule.NotJson, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsPlainAndValid_BracketsCommasAndColonsInsideStrings_NotCountedAsStructure()
    {
        var utf8 = """{"a":"[[[{,}]]]","b":["]",":","{"],"c}":"}"}"""u8.ToArray();
        Assert.True(PayloadRule.IsPlainAndValid(utf8, 2));
        PayloadRule.Check(utf8, 2);

        var error = Assert.Throws<QueueException>(() => PayloadRule.Check(utf8, 1));
        Assert.Equal(PayloadRule.TooDeep(1, 21).Message, error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(64)]
    public void Check_ExactlyTheDepthLimit_AcceptedByTheFastPass(int maxDepth)
    {
        var utf8 = Nested(maxDepth);
        Assert.True(PayloadRule.IsPlainAndValid(utf8, maxDepth));
        PayloadRule.Check(utf8, maxDepth);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(64)]
    public void Check_OneLevelPastTheLimit_RefusedNamingTheLevelAndWhereItOpens(int maxDepth)
    {
        var utf8 = Nested(maxDepth + 1);
        Assert.False(PayloadRule.IsPlainAndValid(utf8, maxDepth));
        var error = Assert.Throws<QueueException>(() => PayloadRule.Check(utf8, maxDepth));
        Assert.Equal(PayloadRule.TooDeep(maxDepth, Offset(maxDepth)).Message, error.Message);
    }

    [Fact]
    public void Check_DeeperThan64WithinTheLimit_FullPassAcceptsIt()
    {
        var utf8 = Nested(80);
        Assert.False(PayloadRule.IsPlainAndValid(utf8, 100));
        PayloadRule.Check(utf8, 100);
    }

    [Fact]
    public void Check_AsciiWithBackslashEscape_TakesTheFullPass()
    {
        var pair = """{"smile":"\ud83d\ude00","quote":"a\"b"}"""u8.ToArray();
        Assert.False(PayloadRule.IsPlainAndValid(pair, 64));
        PayloadRule.Check(pair, 64);

        var lone = """{"x":"\ud800"}"""u8.ToArray();
        Assert.False(PayloadRule.IsPlainAndValid(lone, 64));
        var error = Assert.Throws<QueueException>(() => PayloadRule.Check(lone, 64));
        Assert.Contains(PayloadRule.UnpairedSurrogate, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NonAscii_TakesTheFullPass()
    {
        var text = Encoding.UTF8.GetBytes("{\"jp\":\"日本\",\"name\":\"Zoë\"}");
        Assert.False(PayloadRule.IsPlainAndValid(text, 64));
        PayloadRule.Check(text, 64);

        byte[] broken = [(byte)'"', 0xC3, (byte)'"'];
        Assert.False(PayloadRule.IsPlainAndValid(broken, 64));
        var error = Assert.Throws<QueueException>(() => PayloadRule.Check(broken, 64));
        Assert.Contains(PayloadRule.NotUtf8, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsPlainAndValid_GeneratedPayloads_AgreesWithTheFullPass()
    {
        Gen.Select(Gen.Int, Gen.Int[1, 8]).Sample(
            (seed, maxDepth) =>
            {
                var random = new Random(seed);
                var json = new StringBuilder();
                Value(random, json, 0);
                Mutate(random, json);
                var utf8 = Encoding.UTF8.GetBytes(json.ToString());
                var plain = !utf8.Any(b => b >= 0x80 || b == '\\');
                bool full;
                try
                {
                    PayloadRule.CheckFull(utf8, maxDepth);
                    full = true;
                }
                catch (QueueException)
                {
                    full = false;
                }

                return PayloadRule.IsPlainAndValid(utf8, maxDepth) == (plain && full);
            },
            iter: 20_000,
            print: t => $"seed {t.Item1}, max depth {t.Item2}");
    }

    /// <summary><paramref name="levels"/> levels, alternating arrays and objects, with a string at the bottom.</summary>
    private static byte[] Nested(int levels)
    {
        var json = new StringBuilder();
        for (var level = 0; level < levels; level++)
        {
            json.Append(level % 2 == 0 ? "[" : "{\"k\":");
        }

        json.Append("\"]}\"");
        for (var level = levels - 1; level >= 0; level--)
        {
            json.Append(level % 2 == 0 ? "]" : "}");
        }

        return Encoding.UTF8.GetBytes(json.ToString());
    }

    /// <summary>Where level <paramref name="depth"/> + 1 opens in <see cref="Nested"/>.</summary>
    private static int Offset(int depth) => ((depth + 1) / 2) + (depth / 2 * "{\"k\":".Length);

    private static readonly string[] s_scalars =
    [
        "0", "-1", "12.5", "1e3", "-0.0E-1", "true", "false", "null", "\"\"", "\"a b\"", "\"[{,:}]\"", "\"\\\"\"",
        "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\\udc00\"", "\"é\"", "\"\t\"",
    ];

    private static readonly string[] s_noise = ["{", "}", "[", "]", ",", ":", "\"", " ", "0", "-", ".", "e", "t", "\\", "\u0001", "é"];

    private static void Value(Random random, StringBuilder json, int depth)
    {
        var kind = depth > 9 ? 0 : random.Next(4);
        if (kind < 2)
        {
            json.Append(s_scalars[random.Next(s_scalars.Length)]);
            return;
        }

        var isObject = kind == 3;
        json.Append(isObject ? '{' : '[');
        var count = random.Next(4);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                json.Append(random.Next(4) == 0 ? " , " : ",");
            }

            if (isObject)
            {
                json.Append('"').Append((char)('a' + random.Next(26))).Append("\":");
            }

            Value(random, json, depth + 1);
        }

        json.Append(isObject ? '}' : ']');
    }

    /// <summary>Leaves half the payloads as generated; breaks the others by inserting, deleting or replacing one character.</summary>
    private static void Mutate(Random random, StringBuilder json)
    {
        var at = random.Next(json.Length + 1);
        switch (random.Next(6))
        {
            case 0:
                json.Insert(at, s_noise[random.Next(s_noise.Length)]);
                break;
            case 1 when at < json.Length:
                json.Remove(at, 1);
                break;
            case 2 when at < json.Length:
                json.Remove(at, 1).Insert(at, s_noise[random.Next(s_noise.Length)]);
                break;
        }
    }
}
