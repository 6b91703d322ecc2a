using System.Net;
using BrummerQueue.Server.Hosting;

namespace BrummerQueue.Server.Security;

/// <summary>
/// Which <c>Origin</c> and <c>Host</c> headers the server accepts (SPEC.md section 5; docs/protocol.md).
/// Immutable after construction; thread-safe.
/// </summary>
internal sealed class OriginPolicy
{
    /// <summary>
    /// The <c>Origin</c> a browser sends for an opaque origin (a page opened from a file, a sandboxed
    /// frame). Allowed only when named on its own in <see cref="ServerOptions.AllowedOrigins"/>.
    /// </summary>
    public const string NullOrigin = "null";

    private readonly HashSet<string> _allowedOrigins;
    private readonly HashSet<string> _allowedHosts;
    private readonly bool _anyOrigin;
    private readonly bool _nullOrigin;
    private readonly bool _anyHost;

    public OriginPolicy(ServerOptions options)
    {
        _allowedOrigins = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var origin in options.AllowedOrigins)
        {
            if (origin.Trim() == "*")
            {
                _anyOrigin = true;
            }
            else if (string.Equals(origin.Trim(), NullOrigin, StringComparison.OrdinalIgnoreCase))
            {
                _nullOrigin = true;
            }
            else if (NormalizeOrigin(origin) is { } normalized)
            {
                _allowedOrigins.Add(normalized);
            }
        }

        _allowedHosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "localhost", options.Host.Trim('[', ']') };
        foreach (var host in options.AllowedHostNames)
        {
            if (host.Trim() == "*")
            {
                _anyHost = true;
            }
            else
            {
                _allowedHosts.Add(host.Trim().Trim('[', ']'));
            }
        }

        if (IPAddress.TryParse(options.Host.Trim('[', ']'), out var bound) && (bound.Equals(IPAddress.Any) || bound.Equals(IPAddress.IPv6Any)))
        {
            // Bound to every interface: the machine's own name is one of the server's names.
            _allowedHosts.Add(Dns.GetHostName());
        }
    }

    /// <summary>
    /// True for a Host header a DNS-rebinding page cannot produce: <c>localhost</c>, an IP literal
    /// (a rebinding attack needs a DNS name), the configured host, or one of <see cref="ServerOptions.AllowedHostNames"/>.
    /// A request without Host (HTTP/1.0) is allowed: browsers always send one.
    /// </summary>
    public bool IsAllowedHost(HostString host)
    {
        if (_anyHost || !host.HasValue)
        {
            return true;
        }

        var name = host.Host.Trim('[', ']');
        return IPAddress.TryParse(name, out _) || _allowedHosts.Contains(name);
    }

    /// <summary>
    /// True when a browser page of <paramref name="origin"/> may use the server: the server itself
    /// (same host and port as <paramref name="requestHost"/>), localhost, 127.0.0.1 or [::1] on any
    /// port over http or https, or one of <see cref="ServerOptions.AllowedOrigins"/>. The opaque
    /// origin <c>null</c> only when <see cref="NullOrigin"/> (or <c>*</c>) is among them: every page
    /// opened from a file and every sandboxed frame share it, so it is never allowed by default.
    /// </summary>
    public bool IsAllowedOrigin(string origin, HostString requestHost)
    {
        if (_anyOrigin)
        {
            return true;
        }

        if (string.Equals(origin, NullOrigin, StringComparison.Ordinal))
        {
            return _nullOrigin;
        }

        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            // Extension origins, file: URLs sent as origins and other schemes.
            return false;
        }

        var host = uri.Host.Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host is "127.0.0.1" or "::1")
        {
            return true;
        }

        if (requestHost.HasValue && string.Equals(uri.Authority, requestHost.Value, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return NormalizeOrigin(origin) is { } normalized && _allowedOrigins.Contains(normalized);
    }

    /// <summary><c>scheme://host[:port]</c> in lower case with the default port left out, or null when not an origin.</summary>
    private static string? NormalizeOrigin(string origin) =>
        Uri.TryCreate(origin.Trim().TrimEnd('/'), UriKind.Absolute, out var uri)
            ? uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant()
            : null;
}
