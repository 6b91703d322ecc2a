using System.Text;
using System.Text.Json;
using CsCheck;

namespace BrummerQueue.Server.Tests.Fuzz;

/// <summary>
/// CsCheck generators of fuzz inputs for every face: protocol frames built from docs/protocol.md with
/// valid and invalid field values, byte-level mutations of them (flips, inserts, cuts, invalid UTF-8),
/// deep nesting, huge numbers, wrong types, unknown fields, fragments and binary frames; MCP tool
/// arguments; HTTP API bodies and query strings.
/// Valid TTLs are 0 or at least 3600 s so nothing expires during a run, and no input asks for a blocking
/// wait longer than 0 s on MCP or HTTP (a WebSocket receive waits off the socket's reader), so the
/// accounting after the run is exact and the run is bounded in time.
/// </summary>
internal static class FuzzGenerators
{
    private static readonly JsonSerializerOptions s_raw = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Channels the valid inputs use, so messages pile up where readers look.</summary>
    public static readonly string[] Channels = ["fz.a", "fz.b", "fz.c", "fz.d", "fz.e", "fz/deep:1", "fz_F-2", "fz.h", "fz.i", "fz.j", "fz.k", "fz.l"];

    private static readonly string[] s_tools = ["queue_send", "queue_receive", "queue_subscribe", "queue_unsubscribe", "queue_list_channels", "queue_stats", "queue_nope"];

    private static readonly string[] s_hugeNumbers =
        ["1e400", "-1e400", "123456789012345678901234567890", "-0", "1E+2", "0.0000000000000000000000001", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1.0", "4.9e-324"];

    private static readonly string[] s_strings =
    [
        "\"\"", "\"hello\"", "\"こんにちは\"", "\"😀 grin\"", "\"\\ud83d\\ude00\"", "\"\\u0000\"", "\"a\\nb\\t\\\"q\\\"\"", "\"\\u00e9t\\u00e9\"",
        "\"Great news \\ud83d\"", "\"\\ude00 low first\"", "\"\\uDBFF\\uDFFF\"", "\"\\/slash\"", "\"<script>\"", "\"𝄞 music\"",
    ];

    private static readonly Gen<string> s_scalar = Gen.Frequency(
        (4, Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (2, Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "0")),
        (2, Gen.OneOf(s_hugeNumbers)),
        (2, Gen.OneOf("true", "false", "null")),
        (5, Gen.OneOf(s_strings)),
        (3, Gen.String[0, 24].Select(s => JsonSerializer.Serialize(s))),
        (2, Gen.String[Gen.Char["abcxyzäö€日本😀 \n\"\\"], 0, 16].Select(Raw)));

    private static readonly Gen<string> s_value = Value(3);

    private static readonly Gen<string> s_deep = Gen.Select(
        Gen.Frequency((3, Gen.OneOf(62, 63, 64, 65, 66, 67)), (1, Gen.Int[1, 200]), (1, Gen.OneOf(500, 2000))),
        Gen.Bool,
        s_scalar,
        (depth, arrays, inner) => Nest(depth, arrays, inner));

    private static readonly Gen<string> s_payload = Gen.Frequency(
        (40, s_value),
        (8, s_deep),
        (1, Gen.Int[0, 64].Select(k => Raw(new string('x', (1 << 20) - 64 + (k * 64) - 16)))),
        (4, Gen.Int[1, 4000].Select(n => Raw(new string('é', n)))));

    private static readonly Gen<string> s_channel = Gen.Frequency(
        (20, Gen.OneOf(Channels).Select(Raw)),
        (3, Gen.OneOf("\"\"", "\"has space\"", "\"ü\"", "\"a\\u0000\"", "\"fz.\\ud83d\"", "\"../x\"", "\"" + new string('c', 129) + "\"", "\"" + new string('c', 128) + "\"")),
        (2, s_scalar));

    /// <summary>Reads (receive, subscribe, GET) use the first half of <see cref="Channels"/> only, so the messages sent to the other half stay retained for the read-back after the run.</summary>
    private static readonly Gen<string> s_readChannel = Gen.Frequency(
        (20, Gen.OneOf(Channels[..(Channels.Length / 2)]).Select(Raw)),
        (3, Gen.OneOf("\"\"", "\"has space\"", "\"ü\"", "\"../x\"", "\"" + new string('c', 129) + "\"")),
        (2, s_scalar));

    private static readonly Gen<string> s_ttl = Gen.Frequency(
        (10, Gen.OneOf("0", "3600", "604800")),
        (3, Gen.Int[3600, 604800].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (5, Gen.OneOf("604801", "-1", "1.5", "\"60\"", "1e400", "99999999999999999999", "true", "[]", "{}", "3600.0", "-0", "null")));

    private static readonly Gen<string> s_limit = Gen.Frequency(
        (6, Gen.Int[1, 1000].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (4, Gen.OneOf("0", "-1", "1001", "2.5", "\"5\"", "null", "1e400", "false", "10.0")));

    private static readonly Gen<string> s_bool = Gen.OneOf("true", "false", "true", "false", "\"true\"", "1", "null", "[]");

    /// <summary>Never a positive valid timeout nor null (the 30 s default): a blocking call must not wait.</summary>
    private static readonly Gen<string> s_timeout = Gen.OneOf("0", "0", "0", "-1", "301", "1.5", "\"1\"", "1e400", "0.0");

    private static readonly Gen<string> s_sinceSeq = Gen.OneOf("0", "1", "5", "100", "-1", "1.5", "\"0\"", "1e400", "9223372036854775807", "9223372036854775808", "null");

    private static readonly Gen<string> s_bufferSize = Gen.OneOf("1", "100", "10000", "10001", "0", "-5", "\"1\"", "null", "2.5");

    private static readonly Gen<string> s_subscriptionId = Gen.Frequency((3, Gen.OneOf("\"sub-none\"", "\"\"", "5", "null")), (1, Gen.String[0, 40].Select(Raw)));

    private static readonly Gen<(string Name, string Value)> s_unknownField = Gen.Select(
        Gen.OneOf("paylod", "extra", "__proto__", "", "Channel", "data", "id", "ttl "), s_value, (n, v) => (n, v));

    /// <summary>A WebSocket message: a protocol frame (often mutated), garbage, or a binary frame; sometimes fragmented.</summary>
    public static readonly Gen<FuzzInput> WebSocket = Gen.Select(
        Gen.Frequency(
            (12, Frame.Select(Encoding.UTF8.GetBytes)),
            (8, Gen.Select(Frame, Mutation, (f, m) => m(Encoding.UTF8.GetBytes(f)))),
            (1, Gen.Byte.Array[0, 64]),
            (1, Gen.OneOf("", "{}", "[]", "null", "1", "\"queue_message\"", "{\"type\":null}", "{\"type\":\"ping\",\"id\":{}}").Select(Encoding.UTF8.GetBytes))),
        Gen.Frequency((8, Gen.Const(1)), (2, Gen.Int[2, 5])),
        Gen.Frequency((30, Gen.Const(false)), (1, Gen.Const(true))),
        (body, fragments, binary) => new FuzzInput(FuzzFace.WebSocket, "ws", body, Math.Min(fragments, Math.Max(1, body.Length)), binary));

    /// <summary>An MCP tool call: a tool (or an unknown name) and a JSON object of arguments.</summary>
    public static readonly Gen<FuzzInput> Mcp = Gen.OneOf(s_tools).SelectMany(tool => ToolArguments(tool).Select(args => new FuzzInput(FuzzFace.Mcp, tool, Encoding.UTF8.GetBytes(args))));

    /// <summary>An HTTP API request: method, path, query string and body.</summary>
    public static readonly Gen<FuzzInput> Http = Gen.Frequency(
        (10, Gen.Select(HttpChannelPath, Gen.Frequency((8, HttpSendBody.Select(Encoding.UTF8.GetBytes)), (3, Gen.Select(HttpSendBody, Mutation, (b, m) => m(Encoding.UTF8.GetBytes(b)))), (1, Gen.Const(Array.Empty<byte>()))), (path, body) => new FuzzInput(FuzzFace.Http, $"POST /api/channels/{path}/messages", body))),
        (6, Gen.Select(HttpReadChannelPath, Query, (path, query) => new FuzzInput(FuzzFace.Http, $"GET /api/channels/{path}/messages{query}", []))),
        (1, Gen.OneOf("GET /api/stats", "GET /api/channels", "GET /api/channels?limit=x", "DELETE /api/channels/fz.a/messages", "PUT /api/channels/fz.a/messages", "GET /api/nope", "POST /api/stats")
            .Select(t => new FuzzInput(FuzzFace.Http, t, []))));

    /// <summary>Inputs over all faces, about half of them WebSocket frames.</summary>
    public static readonly Gen<FuzzInput> Any = Gen.Frequency((5, WebSocket), (2, Mcp), (3, Http));

    private static Gen<string> Frame => Gen.Frequency(
        (6, Envelope("queue_message", Gen.Select(s_channel, Gen.OneOf("\"message\"", "\"click\"", "\"\"", "5", "null", "\"" + new string('t', 129) + "\""), s_payload, s_ttl, Gen.Int[0, 15], (c, t, p, ttl, omit) =>
            Fields(("channel", c, (omit & 1) == 0 || omit == 15), ("type", t, (omit & 2) != 0), ("payload", p, (omit & 4) == 0 || omit == 15), ("ttl", ttl, (omit & 8) != 0))))),
        (2, Envelope("queue_subscribe", Gen.Select(s_readChannel, s_sinceSeq, s_bufferSize, Gen.Int[0, 7], (c, s, b, omit) =>
            Fields(("channel", c, omit != 7), ("since_seq", s, (omit & 2) != 0), ("buffer_size", b, (omit & 4) != 0))))),
        (1, Envelope("queue_unsubscribe", s_subscriptionId.Select(s => Fields(("subscription_id", s, true))))),
        (3, Envelope("queue_receive", Gen.Select(s_readChannel, s_limit, s_bool, s_timeout, s_bool, Gen.Int[0, 15], (c, l, b, t, p, omit) =>
            Fields(("channel", c, omit != 15), ("limit", l, (omit & 1) != 0), ("blocking", b, (omit & 2) != 0), ("timeout", t, (omit & 2) != 0 || (omit & 4) != 0), ("peek", p, (omit & 8) != 0))))),
        (1, Envelope("ping", Gen.Const("{}"))),
        (1, Gen.Select(Gen.OneOf("\"queue_nope\"", "\"\"", "5", "null", "\"QUEUE_MESSAGE\"", "[]"), s_value, (t, d) => $"{{\"type\":{t},\"data\":{d}}}")));

    /// <summary>Flips, inserts, cuts, repeats or truncates bytes, or splices in a token that breaks a rule.</summary>
    private static Gen<Func<byte[], byte[]>> Mutation => Gen.Select(Gen.Int[0, 8], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], Gen.Byte, Gen.OneOf(
            "{", "}", "[", "\"", ",", ":", "\\", "\\ud83d", "\\u", "1e999", "-", "null", "\"\"", "\u00e9", "😀"),
        (kind, a, b, value, token) => (Func<byte[], byte[]>)(bytes =>
        {
            var at = bytes.Length == 0 ? 0 : a % (bytes.Length + 1);
            var length = bytes.Length - at == 0 ? 0 : 1 + (b % Math.Min(16, bytes.Length - at));
            var list = new List<byte>(bytes);
            switch (kind)
            {
                case 0:
                    if (at < list.Count)
                    {
                        list[at] ^= (byte)(1 << (b % 8));
                    }

                    break;
                case 1: list.Insert(at, value); break;
                case 2: list.RemoveRange(at, length); break;
                case 3: list.InsertRange(at, bytes.AsSpan(at, length).ToArray()); break;
                case 4: list.RemoveRange(at, list.Count - at); break;
                case 5: list.InsertRange(at, Encoding.UTF8.GetBytes(token)); break;
                case 6: list.InsertRange(at, (b % 4) switch { 0 => new byte[] { 0xff }, 1 => [0xc3, 0x28], 2 => [0xed, 0xa0, 0x80], _ => [0xf4, 0x90, 0x80, 0x80] }); break;
                case 7: list.RemoveRange(at, length); list.InsertRange(at, Encoding.UTF8.GetBytes(token)); break;
                default: list.Insert(at, (byte)(value & 0x7f)); break;
            }

            return [.. list];
        }));

    private static Gen<string> HttpChannelPath => Gen.Frequency(
        (10, Gen.OneOf(Channels)),
        (2, Gen.OneOf("fz.a%2Fb", "has%20space", "%C3%BC", "%FF", "%ZZ", "x//y", new string('c', 129), "fz.a/", "%2E%2E")));

    private static Gen<string> HttpReadChannelPath => Gen.Frequency(
        (10, Gen.OneOf(Channels[..(Channels.Length / 2)])),
        (2, Gen.OneOf("has%20space", "%C3%BC", "%FF", "%ZZ", "x//y", new string('c', 129), "%2E%2E")));

    private static Gen<string> HttpSendBody => Gen.Select(Gen.OneOf("\"message\"", "\"click\"", "\"\"", "5", "null"), s_payload, s_ttl, Gen.Int[0, 7], Gen.Frequency((6, Gen.Const(false)), (1, Gen.Const(true))), s_unknownField, (t, p, ttl, omit, unknown, u) =>
    {
        var body = Fields(("type", t, (omit & 1) != 0), ("payload", p, (omit & 2) == 0), ("ttl", ttl, (omit & 4) != 0));
        return unknown ? body[..^1] + (body.Length > 2 ? "," : string.Empty) + $"{JsonSerializer.Serialize(u.Name)}:{u.Value}}}" : body;
    });

    private static Gen<string> Query => Gen.Select(
        Gen.Select(Gen.OneOf("limit", "peek", "timeout", "foo", "", "limit", "peek"), Gen.OneOf("1", "0", "-1", "1000", "1001", "true", "false", "yes", "2.5", "%ZZ", "", "1e400", "10"), (k, v) => $"{k}={v}").Array[0, 4],
        parts => parts.Length == 0 ? string.Empty : "?" + string.Join('&', parts));

    private static Gen<string> ToolArguments(string tool) => tool switch
    {
        "queue_send" => Gen.Select(s_channel, Gen.OneOf("\"message\"", "\"click\"", "\"\"", "5"), s_payload, s_ttl, Gen.Int[0, 15], (c, t, p, ttl, omit) =>
            Fields(("channel", c, omit != 15), ("type", t, (omit & 2) != 0), ("payload", p, (omit & 4) == 0 || omit == 15), ("ttl", ttl, (omit & 8) != 0))),
        "queue_receive" => Gen.Select(s_readChannel, s_limit, s_bool, s_timeout, s_bool, Gen.Int[0, 15], (c, l, b, t, p, omit) =>
            Fields(("channel", c, omit != 15), ("limit", l, (omit & 1) != 0), ("blocking", b, (omit & 2) != 0), ("timeout", t, true), ("peek", p, (omit & 8) != 0), ("subscription_id", "\"sub-none\"", omit == 4))),
        "queue_subscribe" => Gen.Select(s_readChannel, s_sinceSeq, s_bufferSize, s_bool, Gen.Int[0, 7], (c, s, b, push, omit) =>
            Fields(("channel", c, omit != 7), ("since_seq", s, (omit & 1) != 0), ("buffer_size", b, (omit & 2) != 0), ("push", push, (omit & 4) != 0))),
        "queue_unsubscribe" => s_subscriptionId.Select(s => Fields(("subscription_id", s, true))),
        _ => Gen.Frequency((3, Gen.Const("{}")), (1, s_unknownField.Select(u => $"{{{JsonSerializer.Serialize(u.Name)}:{u.Value}}}"))),
    };

    private static Gen<string> Envelope(string type, Gen<string> data) => Gen.Select(
        data,
        Gen.Frequency((4, Gen.OneOf("\"r1\"", "42", "\"\"")), (2, Gen.Const((string?)null)), (1, Gen.OneOf("null", "{}", "[1]", "true", "1e400"))),
        Gen.Frequency((10, Gen.Const(false)), (1, Gen.Const(true))),
        s_unknownField,
        (d, id, extra, unknown) =>
        {
            var frame = new StringBuilder("{\"type\":\"").Append(type).Append('"');
            if (id is not null)
            {
                frame.Append(",\"id\":").Append(id);
            }

            if (extra)
            {
                // An unknown field inside data (refused) or beside it in the envelope (ignored).
                d = d.Length > 2 ? d[..^1] + $",{JsonSerializer.Serialize(unknown.Name)}:{unknown.Value}}}" : $"{{{JsonSerializer.Serialize(unknown.Name)}:{unknown.Value}}}";
            }

            return frame.Append(",\"data\":").Append(d).Append('}').ToString();
        });

    private static Gen<string> Value(int depth) => depth == 0
        ? s_scalar
        : Gen.Frequency(
            (6, s_scalar),
            (1, Value(depth - 1).Array[0, 4].Select(items => "[" + string.Join(',', items) + "]")),
            (1, Gen.Select(Gen.String[Gen.Char["abk_😀é"], 0, 6], Value(depth - 1), (k, v) => (k, v)).Array[0, 4]
                .Select(pairs => "{" + string.Join(',', pairs.Select(p => JsonSerializer.Serialize(p.k) + ":" + p.v)) + "}")));

    private static string Fields(params (string Name, string Value, bool Present)[] fields) =>
        "{" + string.Join(',', fields.Where(f => f.Present).Select(f => $"\"{f.Name}\":{f.Value}")) + "}";

    private static string Nest(int depth, bool arrays, string inner)
    {
        var text = new StringBuilder();
        for (var i = 0; i < depth; i++)
        {
            text.Append(arrays || i % 2 == 0 ? "[" : "{\"k\":");
        }

        text.Append(inner);
        for (var i = depth - 1; i >= 0; i--)
        {
            text.Append(arrays || i % 2 == 0 ? ']' : '}');
        }

        return text.ToString();
    }

    /// <summary>A JSON string literal of <paramref name="s"/> with non-ASCII text left unescaped (as browsers send it).</summary>
    private static string Raw(string s) => JsonSerializer.Serialize(s, s_raw);

}
