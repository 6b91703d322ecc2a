using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace BrummerQueue.Server.Protocol;

/// <summary>
/// What is wrong with a request that failed to parse as JSON, and which request it was: the
/// top-level <c>"id"</c> if the reader got to it before the fault, where the fault is (byte offset
/// and the path to it, e.g. <c>data.payload.items[3]</c>), and which field holds it. The WebSocket
/// face and stdio MCP both answer a broken request with it, so the client can match the error to
/// its request and see what to fix. Stateless and thread-safe.
/// </summary>
internal readonly record struct JsonSyntaxFault
{
    private const int MaxPathLength = 160;

    /// <summary>The request's <c>id</c> as raw JSON (a string with its quotes, or a number); null when it could not be read.</summary>
    public string? Id { get; init; }

    /// <summary>One sentence for the client, e.g. <c>not valid JSON at byte 17 (in data.payload): ...</c>.</summary>
    public string Description { get; init; }

    /// <summary>The field the fault is in: a field of <c>data</c> (<c>payload</c>) or of the envelope (<c>type</c>); null for the frame as a whole.</summary>
    public string? Field { get; init; }

    /// <summary>The path from the root to the fault, e.g. <c>data.payload</c>; empty at the top level.</summary>
    public string Path { get; init; }

    /// <summary>True when the text is JSON but nests deeper than the parser's limit.</summary>
    public bool TooDeep { get; init; }

    /// <summary>
    /// Describes <paramref name="error"/>, thrown while parsing <paramref name="json"/> (with any
    /// <c>MaxDepth</c>): walks the text again with no depth limit, keeping the top-level id and the
    /// path to the place the parser stopped. Text that is JSON at any depth failed on depth.
    /// </summary>
    public static JsonSyntaxFault Describe(ReadOnlySpan<byte> json, JsonException error)
    {
        if (json.Trim(" \t\r\n"u8).IsEmpty)
        {
            return new JsonSyntaxFault { Description = "is empty", Path = string.Empty };
        }

        var offset = Offset(json, error.LineNumber ?? 0, error.BytePositionInLine ?? 0);
        var walk = Walk(json, offset);
        var at = walk.Path.Length == 0 ? string.Empty : $" (in {walk.Path})";
        var description = walk.Complete
            ? $"nests deeper than {walk.DepthAtOffset} levels at byte {offset}{at}"
            : $"is not valid JSON at byte {offset}{at}: {Reason(error)}";
        return new JsonSyntaxFault { Id = walk.Id, Description = description, Field = walk.Field, Path = walk.Path, TooDeep = walk.Complete };
    }

    /// <summary>
    /// Finds the first byte of <paramref name="text"/> that is not valid UTF-8 (JSON text is UTF-8; a
    /// string the parser accepted would fail later, when read): false when there is none.
    /// </summary>
    public static bool TryFindInvalidUtf8(ReadOnlySpan<byte> text, out JsonSyntaxFault fault)
    {
        if (Utf8.IsValid(text))
        {
            fault = default;
            return false;
        }

        var chars = new char[text.Length];
        Utf8.ToUtf16(text, chars, out var valid, out _, replaceInvalidSequences: false);
        var walk = Walk(text[..valid], valid);
        var at = walk.Path.Length == 0 ? string.Empty : $" (in {walk.Path})";
        fault = new JsonSyntaxFault { Id = walk.Id, Description = $"is not valid UTF-8 at byte {valid}{at}", Field = walk.Field, Path = walk.Path };
        return true;
    }

    /// <summary>The top-level <c>"id"</c> of <paramref name="json"/> as raw JSON, if it is a string or number the reader gets to.</summary>
    public static string? ReadId(ReadOnlySpan<byte> json) => Walk(json, long.MaxValue).Id;

    /// <summary>
    /// The parser's reason without its position suffix ("LineNumber: 0 | BytePositionInLine: 5.") and without advice
    /// meant for the server's own code ("Change the reader options.", which a client cannot do).
    /// </summary>
    public static string Reason(JsonException error) =>
        error.Message.Split(" LineNumber:", 2)[0].Split(" Path:", 2)[0].Replace(" Change the reader options.", string.Empty, StringComparison.Ordinal).TrimEnd();

    private static long Offset(ReadOnlySpan<byte> json, long line, long bytePositionInLine)
    {
        long start = 0;
        for (long i = 0; i < line; i++)
        {
            var newline = json[(int)start..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                break;
            }

            start += newline + 1;
        }

        return Math.Min(start + bytePositionInLine, json.Length);
    }

    private static WalkResult Walk(ReadOnlySpan<byte> json, long offset)
    {
        // Each open container: its kind, the name or index under which it sits in its parent, and the next array index.
        var path = new List<Segment>();
        string? id = null;
        string? pendingName = null;
        string? pathAtOffset = null;
        string? fieldAtOffset = null;
        var depthAtOffset = 0;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = int.MaxValue });
        try
        {
            while (reader.Read())
            {
                if (pathAtOffset is null && reader.TokenStartIndex >= offset)
                {
                    (pathAtOffset, fieldAtOffset, depthAtOffset) = (Format(path, pendingName), FieldOf(path, pendingName), reader.CurrentDepth);
                }

                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        pendingName = reader.GetString();
                        continue;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        path.Add(new Segment(reader.TokenType == JsonTokenType.StartObject, TakeName(path, ref pendingName)));
                        continue;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        path.RemoveAt(path.Count - 1);
                        continue;
                }

                if (path.Count == 1 && path[0].IsObject && pendingName == "id" && reader.TokenType is JsonTokenType.String or JsonTokenType.Number)
                {
                    var raw = json[(int)reader.TokenStartIndex..(int)reader.BytesConsumed];
                    id = Utf8.IsValid(raw) ? Encoding.UTF8.GetString(raw) : null;
                }

                TakeName(path, ref pendingName);
            }

            return new WalkResult(id, pathAtOffset ?? string.Empty, fieldAtOffset, depthAtOffset, Complete: true);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // The fault (InvalidOperationException: a name that is not UTF-8, which only a binary frame can carry).
            return new WalkResult(id, pathAtOffset ?? Format(path, pendingName), pathAtOffset is null ? FieldOf(path, pendingName) : fieldAtOffset, depthAtOffset, Complete: false);
        }
    }

    /// <summary>The name under which the value now read sits, and advances the parent array's index.</summary>
    private static string? TakeName(List<Segment> path, ref string? pendingName)
    {
        if (path.Count == 0)
        {
            return null;
        }

        var parent = path[^1];
        if (parent.IsObject)
        {
            var name = pendingName;
            pendingName = null;
            return name;
        }

        return "[" + parent.NextIndex++ + "]";
    }

    private static string Format(List<Segment> path, string? pendingName)
    {
        var builder = new StringBuilder();
        foreach (var segment in path)
        {
            Append(builder, segment.Name);
        }

        if (path.Count > 0 && path[^1].IsObject)
        {
            Append(builder, pendingName);
        }
        else if (path.Count > 0)
        {
            Append(builder, "[" + path[^1].NextIndex + "]");
        }

        // A path through a deeply nested value is shortened in the middle.
        return builder.Length <= MaxPathLength ? builder.ToString() : builder.ToString(0, MaxPathLength / 2) + "…" + builder.ToString(builder.Length - (MaxPathLength / 2), MaxPathLength / 2);

        static void Append(StringBuilder builder, string? name)
        {
            if (name is null)
            {
                return;
            }

            // An empty name ("") is a field too: it gets its dot.
            if (builder.Length > 0 && !IsIndex(name))
            {
                builder.Append('.');
            }

            builder.Append(name.Length <= 64 ? name : name[..64] + "…");
        }
    }

    /// <summary>A field of <c>data</c> when the fault is inside one, else the envelope field it is in.</summary>
    private static string? FieldOf(List<Segment> path, string? pendingName)
    {
        var names = path.Skip(1).Select(s => s.Name).Append(path.Count > 0 && path[^1].IsObject ? pendingName : null).Where(n => n is not null).ToList();
        if (names.Count >= 2 && names[0] == "data" && !IsIndex(names[1]!))
        {
            return names[1];
        }

        return names.Count >= 1 && !IsIndex(names[0]!) ? names[0] : null;
    }

    // An array index segment ("[3]"), not a field name; an empty field name ("") is a name.
    private static bool IsIndex(string segment) => segment.StartsWith('[');

    private sealed class Segment(bool isObject, string? name)
    {
        public bool IsObject { get; } = isObject;

        public string? Name { get; } = name;

        public int NextIndex { get; set; }
    }

    private readonly record struct WalkResult(string? Id, string Path, string? Field, int DepthAtOffset, bool Complete);
}
