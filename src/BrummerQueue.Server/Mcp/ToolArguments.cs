using System.Text.Json;
using BrummerQueue.Core;

namespace BrummerQueue.Server.Mcp;

/// <summary>
/// Reads a tool call's raw JSON arguments with the rules of SPEC.md. A wrong JSON type gives the
/// same <see cref="QueueException"/> as an out-of-range value (e.g. <c>ttl must be an integer
/// between 0 and 604800</c>), so a model sees the argument and the rule either way. JSON
/// <c>null</c> counts as absent.
/// </summary>
internal sealed class ToolArguments
{
    private readonly IDictionary<string, JsonElement> _arguments;

    public ToolArguments(IDictionary<string, JsonElement>? arguments, params string[] allowed)
    {
        _arguments = arguments ?? new Dictionary<string, JsonElement>();
        foreach (var name in _arguments.Keys)
        {
            if (Array.IndexOf(allowed, name) < 0)
            {
                var expected = allowed.Length == 0 ? "it takes no arguments" : "expected: " + string.Join(", ", allowed);
                throw QueueException.Invalid(name, $"unknown argument '{name}'; {expected}");
            }
        }
    }

    /// <summary>The value when present and not JSON null.</summary>
    public bool TryGet(string name, out JsonElement value) =>
        _arguments.TryGetValue(name, out value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);

    /// <summary>A string argument, or null when absent.</summary>
    public string? String(string name, string rule)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw QueueException.Invalid(name, $"{name} must be a string: {rule}");
    }

    /// <summary>A whole number, or null when absent; <paramref name="outOfRange"/> is thrown for anything else.</summary>
    public long? Integer(string name, Func<QueueException> outOfRange)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number)
        {
            if (value.TryGetInt64(out var whole))
            {
                return whole;
            }

            // 5.0 is a whole number written as a float; 1.5 and 1e30 are not acceptable.
            if (value.TryGetDecimal(out var d) && d == decimal.Truncate(d) && d is >= long.MinValue and <= long.MaxValue)
            {
                return (long)d;
            }
        }

        throw outOfRange();
    }

    /// <summary>A number, or null when absent.</summary>
    public double? Number(string name, Func<QueueException> invalid)
    {
        if (!TryGet(name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number) ? number : throw invalid();
    }

    /// <summary>A boolean, or <paramref name="fallback"/> when absent.</summary>
    public bool Boolean(string name, bool fallback)
    {
        if (!TryGet(name, out var value))
        {
            return fallback;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw QueueException.Invalid(name, $"{name} must be a boolean (true or false)"),
        };
    }

    /// <summary>Clamps a checked long into int range for rules that the engine validates again.</summary>
    public static int? ToInt(long? value) => value is null ? null : (int)Math.Clamp(value.Value, int.MinValue, int.MaxValue);
}
