using System.Collections;
using System.CommandLine;
using System.Text;
using BrummerQueue.Core;
using BrummerQueue.Server.Cli;
using BrummerQueue.Server.Settings;
using Microsoft.Extensions.Configuration;

namespace BrummerQueue.Server.Tests.Leases;

/// <summary>The <c>MaxDeliveries</c> setting of acknowledged receive as flag, <c>BRUMMERQ_*</c> variable and appsettings key, checked at start.</summary>
public sealed class MaxDeliveriesSettingTests
{
    [Fact]
    public void Bind_MaxDeliveriesFromEachSource_FlagBeatsEnvBeatsAppsettings()
    {
        var setting = SettingsCatalog.All.Single(s => s.Name == nameof(QueueOptions.MaxDeliveries));
        Assert.Equal("--max-deliveries", setting.Flag);
        Assert.Equal("BRUMMERQ_MAX_DELIVERIES", setting.EnvironmentVariable);
        Assert.Equal("5", setting.DefaultText);

        Assert.Equal(3, SettingsBinder.Bind<QueueOptions>(Build("""{"Brummerq":{"Queue":{"MaxDeliveries":3}}}""", [], [])).MaxDeliveries);
        Assert.Equal(4, SettingsBinder.Bind<QueueOptions>(Build("""{"Brummerq":{"Queue":{"MaxDeliveries":3}}}""", new Hashtable { ["BRUMMERQ_MAX_DELIVERIES"] = "4" }, [])).MaxDeliveries);
        Assert.Equal(6, SettingsBinder.Bind<QueueOptions>(Build(null, new Hashtable { ["BRUMMERQ_MAX_DELIVERIES"] = "4" }, ["--max-deliveries", "6"])).MaxDeliveries);
    }

    [Fact]
    public void Validate_MaxDeliveriesZero_RefusedNamingTheSetting()
    {
        var result = new QueueOptionsValidator().Validate(null, new QueueOptions { MaxDeliveries = 0 });

        Assert.True(result.Failed);
        Assert.Contains("--max-deliveries", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("MaxDeliveries must be at least 1", result.FailureMessage, StringComparison.Ordinal);
    }

    private static IConfiguration Build(string? appsettings, Hashtable environment, string[] flags)
    {
        var builder = new ConfigurationBuilder();
        if (appsettings is not null)
        {
            builder.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(appsettings)));
        }

        builder.Add(new BrummerEnvironmentSource(environment));
        var command = new Command("serve");
        var settingFlags = new SettingFlags(command);
        var root = new RootCommand { command };
        var parse = root.Parse(["serve", .. flags]);
        Assert.Empty(parse.Errors);
        builder.AddInMemoryCollection(settingFlags.ToConfiguration(parse));
        return builder.Build();
    }
}
