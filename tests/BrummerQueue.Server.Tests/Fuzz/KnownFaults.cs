using System.Text;
using System.Text.RegularExpressions;

namespace BrummerQueue.Server.Tests.Fuzz;

/// <summary>
/// Input classes the fuzzer finds faults with that other work on issue 9 fixes. While
/// <see cref="Excluded"/> is on, inputs of these classes are generated but not sent (counted as
/// skipped). Remove a class once its fix is merged; set <c>BRUMMERQ_FUZZ_KNOWN_FAULTS=include</c>
/// to send them anyway.
/// </summary>
internal static partial class KnownFaults
{
    /// <summary>The one switch: true unless <c>BRUMMERQ_FUZZ_KNOWN_FAULTS=include</c>.</summary>
    public static readonly bool Excluded = Environment.GetEnvironmentVariable("BRUMMERQ_FUZZ_KNOWN_FAULTS") != "include";

    /// <summary>The known fault an input belongs to (with its issue 9 scope point), or null.</summary>
    public static string? Classify(FuzzInput input)
    {
        var text = Encoding.UTF8.GetString(input.Body);
        if (LoneSurrogateEscape().IsMatch(text))
        {
            // Issue 9 point 1 (helper `payload`): a lone surrogate escape is stored, then cannot be written by some faces.
            return "lone-surrogate-escape (issue 9 point 1, payload)";
        }

        if (NestingDepth(input.Body) is >= 58 and <= 70)
        {
            // Issue 9 point 1 (helper `payload`): a payload near max_payload_depth (64) is accepted by one face and
            // cannot be written by another (MCP queue_receive logs "Tool queue_receive failed", max depth 64).
            return "payload-depth-near-limit (issue 9 point 1, payload)";
        }

        if (input.Face == FuzzFace.Http && !IsUtf8(input.Body))
        {
            // Issue 9 point 1 (helper `payload`): the HTTP API stores bytes that are not UTF-8.
            return "invalid-utf8-http-body (issue 9 point 1, payload)";
        }

        return null;
    }

    /// <summary>The deepest nesting of arrays and objects in <paramref name="json"/> (strings skipped), however malformed.</summary>
    private static int NestingDepth(byte[] json)
    {
        int depth = 0, max = 0;
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var b = json[i];
            if (inString)
            {
                if (b == '\\')
                {
                    i++;
                }
                else if (b == '"')
                {
                    inString = false;
                }
            }
            else if (b == '"')
            {
                inString = true;
            }
            else if (b is (byte)'[' or (byte)'{')
            {
                max = Math.Max(max, ++depth);
            }
            else if (b is (byte)']' or (byte)'}')
            {
                depth--;
            }
        }

        return max;
    }

    private static bool IsUtf8(byte[] bytes) => System.Text.Unicode.Utf8.IsValid(bytes);

    /// <summary>A <c>\uD800</c>–<c>\uDBFF</c> escape not followed by a low one, or a low one not preceded by a high one.</summary>
    [GeneratedRegex(@"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")]
    private static partial Regex LoneSurrogateEscape();
}
