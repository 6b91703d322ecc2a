using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Security;
using Microsoft.AspNetCore.Http;

namespace BrummerQueue.Server.Tests.Security;

public sealed class OriginPolicyTests
{
    [Theory]
    [InlineData("http://localhost:3000", "127.0.0.1:8080", true)]
    [InlineData("http://127.0.0.1", "127.0.0.1:8080", true)]
    [InlineData("http://[::1]:9", "127.0.0.1:8080", true)]
    [InlineData("http://myhost:8080", "myhost:8080", true)]
    [InlineData("http://myhost:9090", "myhost:8080", false)]
    [InlineData("https://evil.example", "127.0.0.1:8080", false)]
    [InlineData("null", "127.0.0.1:8080", false)]
    [InlineData("file://", "127.0.0.1:8080", false)]
    [InlineData("chrome-extension://abc", "127.0.0.1:8080", false)]
    [InlineData("https://app.example.com", "127.0.0.1:8080", true)]
    public void IsAllowedOrigin_Cases_MatchSpec(string origin, string requestHost, bool expected)
    {
        var policy = new OriginPolicy(new ServerOptions { AllowedOrigins = ["https://app.example.com"] });

        Assert.Equal(expected, policy.IsAllowedOrigin(origin, new HostString(requestHost)));
    }

    [Theory]
    [InlineData("null", true)]
    [InlineData("https://evil.example", false)]
    [InlineData("file://", false)]
    [InlineData("http://localhost:3000", true)]
    public void IsAllowedOrigin_NullNamed_AllowsNullOnly(string origin, bool expected)
    {
        var policy = new OriginPolicy(new ServerOptions { AllowedOrigins = ["null"] });

        Assert.Equal(expected, policy.IsAllowedOrigin(origin, new HostString("127.0.0.1:8080")));
    }

    [Theory]
    [InlineData("localhost:8080", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("127.0.0.1:8080", true)]
    [InlineData("[::1]:8080", true)]
    [InlineData("10.0.0.5", true)]
    [InlineData("evil.example", false)]
    [InlineData("localhost.evil.example", false)]
    public void IsAllowedHost_Cases_BlockDnsRebinding(string host, bool expected)
    {
        var policy = new OriginPolicy(new ServerOptions());

        Assert.Equal(expected, policy.IsAllowedHost(new HostString(host)));
    }

    [Fact]
    public void IsAllowedHost_ConfiguredHostName_Allowed()
    {
        var policy = new OriginPolicy(new ServerOptions { Host = "0.0.0.0", AllowedHostNames = ["queue.lan"] });

        Assert.True(policy.IsAllowedHost(new HostString("queue.lan:8080")));
        Assert.True(policy.IsAllowedHost(new HostString(System.Net.Dns.GetHostName())));
    }

    [Fact]
    public void IsAllowedHost_Wildcard_AllowsAny()
    {
        var policy = new OriginPolicy(new ServerOptions { AllowedHostNames = ["*"] });

        Assert.True(policy.IsAllowedHost(new HostString("anything.example")));
    }
}
