using System.Collections;
using System.CommandLine;
using System.Text;
using BrummerQueue.Core;
using BrummerQueue.Server.Cli;
using BrummerQueue.Server.Hosting;
using BrummerQueue.Server.Settings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BrummerQueue.Server.Tests.Settings;

/// <summary>Every setting as flag, BRUMMERQ_* variable and appsettings.json key, with flag &gt; env &gt; appsettings &gt; default.</summary>
public sealed class SettingsTests
{
    [Fact]
    public void Catalog_BothOptionRecords_EverySettableProperty()
    {
        var names = SettingsCatalog.All.Select(s => s.Name).ToHashSet();

        foreach (var property in typeof(ServerOptions).GetProperties().Concat(typeof(QueueOptions).GetProperties()).Where(p => p.SetMethod is { IsPublic: true }))
        {
            Assert.Contains(property.Name, names);
        }

        var capacity = SettingsCatalog.All.Single(s => s.Name == nameof(QueueOptions.ChannelCapacity));
        Assert.Equal("--channel-capacity", capacity.Flag);
        Assert.Equal("BRUMMERQ_CHANNEL_CAPACITY", capacity.EnvironmentVariable);
        Assert.Equal("Brummerq:Queue:ChannelCapacity", capacity.ConfigKey);
        var origins = SettingsCatalog.All.Single(s => s.Name == nameof(ServerOptions.AllowedOrigins));
        Assert.Equal("--allowed-origin", origins.Flag);
        Assert.Equal("BRUMMERQ_ALLOWED_ORIGINS", origins.EnvironmentVariable);
        Assert.Equal("Brummerq:Port", SettingsCatalog.All.Single(s => s.Name == nameof(ServerOptions.Port)).ConfigKey);
    }

    [Fact]
    public void Bind_AllSources_FlagBeatsEnvBeatsAppsettingsBeatsDefault()
    {
        var configuration = Build(
            appsettings: """{"Brummerq":{"Port":1111,"Host":"0.0.0.0","MaxConnections":7,"Queue":{"ChannelCapacity":11,"MaxChannels":12,"DefaultTtlSeconds":13}}}""",
            environment: new Hashtable { ["BRUMMERQ_PORT"] = "2222", ["BRUMMERQ_CHANNEL_CAPACITY"] = "22", ["BRUMMERQ_MAX_CONNECTIONS"] = "8" },
            flags: ["--port", "3333", "--max-connections", "9"]);

        var server = SettingsBinder.Bind<ServerOptions>(configuration);
        var queue = SettingsBinder.Bind<QueueOptions>(configuration);

        Assert.Equal(3333, server.Port);
        Assert.Equal(9, server.MaxConnections);
        Assert.Equal("0.0.0.0", server.Host);
        Assert.Equal(22, queue.ChannelCapacity);
        Assert.Equal(12, queue.MaxChannels);
        Assert.Equal(13, queue.DefaultTtlSeconds);
        Assert.Equal(new QueueOptions().MaxTtlSeconds, queue.MaxTtlSeconds);
    }

    [Fact]
    public void Bind_UnsetFlags_DoNotHideEnvironment()
    {
        var configuration = Build(environment: new Hashtable { ["BRUMMERQ_PORT"] = "4444", ["BRUMMERQ_HOST"] = "::1" }, flags: []);

        var server = SettingsBinder.Bind<ServerOptions>(configuration);

        Assert.Equal(4444, server.Port);
        Assert.Equal("::1", server.Host);
    }

    [Fact]
    public void Bind_TimeSpans_SecondsOrTimeSpanText()
    {
        var configuration = Build(
            appsettings: """{"Brummerq":{"Queue":{"SubscriptionIdleTimeout":"00:02:30"}}}""",
            environment: new Hashtable { ["BRUMMERQ_SWEEP_INTERVAL"] = "2.5" });

        var queue = SettingsBinder.Bind<QueueOptions>(configuration);

        Assert.Equal(TimeSpan.FromSeconds(2.5), queue.SweepInterval);
        Assert.Equal(TimeSpan.FromSeconds(150), queue.SubscriptionIdleTimeout);
    }

    [Fact]
    public void Bind_Arrays_RepeatedFlagOrCommaListReplacesAppsettingsArray()
    {
        var fromJson = Build(appsettings: """{"Brummerq":{"AllowedOrigins":["https://a.example","https://b.example"]}}""");
        var fromEnv = Build(
            appsettings: """{"Brummerq":{"AllowedOrigins":["https://a.example","https://b.example"]}}""",
            environment: new Hashtable { ["BRUMMERQ_ALLOWED_ORIGINS"] = "https://c.example" });
        var fromFlags = Build(flags: ["--allowed-origin", "https://d.example", "--allowed-origin", "https://e.example"]);

        Assert.Equal(["https://a.example", "https://b.example"], SettingsBinder.Bind<ServerOptions>(fromJson).AllowedOrigins);
        Assert.Equal(["https://c.example"], SettingsBinder.Bind<ServerOptions>(fromEnv).AllowedOrigins);
        Assert.Equal(["https://d.example", "https://e.example"], SettingsBinder.Bind<ServerOptions>(fromFlags).AllowedOrigins);
    }

    [Fact]
    public void Bind_Malformed_ErrorNamesSettingFlagVariableAndKey()
    {
        var configuration = Build(environment: new Hashtable { ["BRUMMERQ_MAX_CHANNELS"] = "many" });

        var error = Assert.Throws<SettingsException>(() => SettingsBinder.Bind<QueueOptions>(configuration));

        Assert.Equal("Invalid setting MaxChannels (--max-channels, BRUMMERQ_MAX_CHANNELS, Brummerq:Queue:MaxChannels): 'many' is not an integer.", error.Message);
    }

    [Fact]
    public async Task StartHost_OutOfRange_FailsAtStartNamingSetting()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:ChannelCapacity"] = "0" });
        });
        var port = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Port"] = "70000" });
        });

        Assert.Contains("ChannelCapacity (--channel-capacity, BRUMMERQ_CHANNEL_CAPACITY, Brummerq:Queue:ChannelCapacity): ChannelCapacity must be at least 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("Port (--port, BRUMMERQ_PORT, Brummerq:Port): must be between 0 and 65535", port.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KeepAliveAndIdleTimeout_ZeroTurnsThemOffNegativeIsRefused()
    {
        var validator = new ServerOptionsValidator();

        var off = validator.Validate(null, new ServerOptions { KeepAliveSeconds = 0, IdleTimeoutSeconds = 0 });
        var negative = validator.Validate(null, new ServerOptions { KeepAliveSeconds = -1 });
        var zeroLimit = validator.Validate(null, new ServerOptions { MaxConnections = 0 });

        Assert.True(off.Succeeded);
        Assert.Contains("KeepAliveSeconds (--keep-alive-seconds, BRUMMERQ_KEEP_ALIVE_SECONDS, Brummerq:KeepAliveSeconds): must be at least 0", negative.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("must be at least 1", zeroLimit.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SlowClientSettings_ZeroRateTurnsItOffZeroTimeoutsAreRefused()
    {
        var validator = new ServerOptionsValidator();

        var off = validator.Validate(null, new ServerOptions { MinDataRateBytesPerSecond = 0 });
        var negativeRate = validator.Validate(null, new ServerOptions { MinDataRateBytesPerSecond = -1 });
        var zeroHeaders = validator.Validate(null, new ServerOptions { RequestHeadersTimeoutSeconds = 0 });
        var zeroShutdown = validator.Validate(null, new ServerOptions { ShutdownTimeoutSeconds = 0 });

        Assert.True(off.Succeeded);
        Assert.Contains("MinDataRateBytesPerSecond (--min-data-rate-bytes-per-second, BRUMMERQ_MIN_DATA_RATE_BYTES_PER_SECOND, Brummerq:MinDataRateBytesPerSecond): must be at least 0", negativeRate.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("RequestHeadersTimeoutSeconds (--request-headers-timeout-seconds", zeroHeaders.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("ShutdownTimeoutSeconds (--shutdown-timeout-seconds", zeroShutdown.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_AllowedOriginsAndHostNames_RefusesMalformedNamingSetting()
    {
        var validator = new ServerOptionsValidator();

        var good = validator.Validate(null, new ServerOptions
        {
            AllowedOrigins = ["https://app.example.com", "http://10.0.0.5:3000", "https://app.example.com/", "*"],
            AllowedHostNames = ["queue.example.com", "my-box", "::1", "[fe80::1]", "*"],
        });
        var bad = validator.Validate(null, new ServerOptions
        {
            AllowedOrigins = ["notanorigin", "https://app.example.com/path", "ftp://files.example.com", "https://app.example.com?x=1"],
            AllowedHostNames = ["http://queue.example.com", "queue.example.com:8080", "bad name"],
        });

        Assert.True(good.Succeeded, good.FailureMessage);
        var failures = bad.Failures!.ToList();
        Assert.Equal(7, failures.Count);
        Assert.Contains("Invalid setting AllowedOrigins (--allowed-origin, BRUMMERQ_ALLOWED_ORIGINS, Brummerq:AllowedOrigins): 'notanorigin' is not an origin; write scheme://host[:port]", failures[0], StringComparison.Ordinal);
        Assert.Contains("Invalid setting AllowedHostNames (--allowed-host-name, BRUMMERQ_ALLOWED_HOST_NAMES, Brummerq:AllowedHostNames): 'http://queue.example.com' is not a host name", failures[4], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("Redis")]
    [InlineData("REDIS")]
    public void Validate_StoreRedisInAnyCase_AcceptedAndUsesRedis(string store)
    {
        var options = new ServerOptions { Store = store, Redis = "127.0.0.1:6380" };

        var result = new ServerOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.True(options.UsesRedis);
    }

    [Fact]
    public void Validate_RedisGivenButStoreMemory_RefusedNamingBothSettings()
    {
        var result = new ServerOptionsValidator().Validate(null, new ServerOptions { Redis = "127.0.0.1:6380" });

        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith("Invalid setting Redis (--redis, BRUMMERQ_REDIS, Brummerq:Redis): it is used only with --store redis; add --store redis (BRUMMERQ_STORE=redis)", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_AllowedOriginNull_Accepted()
    {
        var result = new ServerOptionsValidator().Validate(null, new ServerOptions { AllowedOrigins = ["null"] });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public async Task Run_AllowedOriginNotAnOrigin_FailsAtStartWithOneLine()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30)); // a server that starts anyway is stopped, and the exit code tells

        var code = await BrummerCli.RunAsync(["serve", "--port", "0", "--allowed-origin", "notanorigin"], output, error, timeout.Token);

        Assert.Equal(HostRunner.InvalidSettings, code);
        Assert.Contains("'notanorigin' is not an origin", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartHost_Settings_ReachQueueOptions()
    {
        await using var host = await TestServerHost.StartInProcessAsync(new() { ["Brummerq:Queue:ChannelCapacity"] = "5", ["Brummerq:Queue:SweepInterval"] = "3" });

        Assert.Equal(5, host.Queue.Options.ChannelCapacity);
        Assert.Equal(TimeSpan.FromSeconds(3), host.Services.GetRequiredService<IOptions<QueueOptions>>().Value.SweepInterval);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("mcp")]
    public async Task Help_Command_ListsEverySettingWithDefaultAndVariable(string command)
    {
        var output = new StringWriter();

        await BrummerCli.Create().Parse([command, "--help"]).InvokeAsync(new InvocationConfiguration { Output = output }, TestContext.Current.CancellationToken);

        var help = output.ToString();
        foreach (var setting in SettingsCatalog.All)
        {
            Assert.Contains(setting.Flag, help, StringComparison.Ordinal);
            Assert.Contains($"[env: {setting.EnvironmentVariable}]", help, StringComparison.Ordinal);
            Assert.Contains($"[appsettings: {setting.ConfigKey}]", help, StringComparison.Ordinal);
            Assert.Contains($"[default: {setting.DefaultText}]", help, StringComparison.Ordinal);
        }

        Assert.Contains("[default: 8080] [env: BRUMMERQ_PORT]", help, StringComparison.Ordinal);
        Assert.Contains("--max-payload-depth", help, StringComparison.Ordinal);
        Assert.Contains("[default: 64] [env: BRUMMERQ_MAX_PAYLOAD_DEPTH]", help, StringComparison.Ordinal);
        Assert.Contains("[default: false] [env: BRUMMERQ_INSECURE_NO_TOKEN]", help, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("mcp")]
    public async Task Help_Command_EachDefaultOnceTokenNamesEverySurfaceItGuards(string command)
    {
        var output = new StringWriter();

        await BrummerCli.Create().Parse([command, "--help"]).InvokeAsync(new InvocationConfiguration { Output = output }, TestContext.Current.CancellationToken);

        var lines = output.ToString().Split('\n');
        foreach (var setting in SettingsCatalog.All)
        {
            var line = Assert.Single(lines, l => l.TrimStart().StartsWith(setting.Flag + " ", StringComparison.Ordinal));
            Assert.True(
                System.Text.RegularExpressions.Regex.Count(line, @"\bdefault\b(?!-)", System.Text.RegularExpressions.RegexOptions.IgnoreCase) == 1,
                $"{setting.Flag} shows its default more than once: {line}");
        }

        var token = Assert.Single(lines, l => l.TrimStart().StartsWith("--token ", StringComparison.Ordinal));
        foreach (var surface in new[] { "MCP (/mcp)", "the WebSocket (/__brummer_ws__)", "the HTTP API (/api/...)", "/metrics", "the dashboard's data" })
        {
            Assert.Contains(surface, token, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_MaxPayloadDepthOutOfRange_NamesSettingAndRange()
    {
        var result = new QueueOptionsValidator().Validate(null, new QueueOptions { MaxPayloadDepth = 0 });

        Assert.Equal("Invalid setting MaxPayloadDepth (--max-payload-depth, BRUMMERQ_MAX_PAYLOAD_DEPTH, Brummerq:Queue:MaxPayloadDepth): MaxPayloadDepth must be between 1 and 900.", result.FailureMessage);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("mcp")]
    public async Task Run_MalformedFlag_ErrorNamesSettingOnStderrOnly(string command)
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await BrummerCli.RunAsync([command, "--port", "eighty"], output, error, TestContext.Current.CancellationToken);

        Assert.NotEqual(0, code);
        Assert.Contains("Invalid setting Port (--port, BRUMMERQ_PORT, Brummerq:Port): 'eighty' is not an integer.", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(string.Empty, output.ToString());
    }

    private static IConfiguration Build(string? appsettings = null, Hashtable? environment = null, string[]? flags = null)
    {
        var builder = new ConfigurationBuilder();
        if (appsettings is not null)
        {
            builder.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(appsettings)));
        }

        builder.Add(new BrummerEnvironmentSource(environment ?? new Hashtable()));
        if (flags is not null)
        {
            var command = new Command("serve");
            var settingFlags = new SettingFlags(command);
            var root = new RootCommand { command };
            var parse = root.Parse(["serve", .. flags]);
            Assert.Empty(parse.Errors);
            builder.AddInMemoryCollection(settingFlags.ToConfiguration(parse));
        }

        return builder.Build();
    }
}
