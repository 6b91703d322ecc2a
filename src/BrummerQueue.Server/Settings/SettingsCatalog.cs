using System.Globalization;
using System.Reflection;
using System.Xml.Linq;
using BrummerQueue.Core;
using BrummerQueue.Server.Hosting;

namespace BrummerQueue.Server.Settings;

/// <summary>
/// Every setting of brummerq, found by reflection over <see cref="ServerOptions"/> (section
/// <c>Brummerq</c>) and <see cref="QueueOptions"/> (section <c>Brummerq:Queue</c>), so a property
/// added to either record gets its flag, environment variable and configuration key without more code.
/// </summary>
internal static class SettingsCatalog
{
    /// <summary>Prefix of every environment variable.</summary>
    public const string EnvironmentPrefix = SettingNames.EnvironmentPrefix;

    /// <summary>Configuration section of <see cref="QueueOptions"/>.</summary>
    public const string QueueSectionName = ServerOptions.SectionName + ":Queue";

    private static readonly Lazy<IReadOnlyList<SettingDescriptor>> s_all = new(Build);

    /// <summary>All settings: server settings first, then queue settings, each in declaration order.</summary>
    public static IReadOnlyList<SettingDescriptor> All => s_all.Value;

    /// <summary>The settings that fill <paramref name="optionsType"/>.</summary>
    public static IEnumerable<SettingDescriptor> For(Type optionsType) => All.Where(s => s.Property.DeclaringType == optionsType);

    /// <summary><c>ChannelCapacity</c> → <c>channel-capacity</c>.</summary>
    public static string Kebab(string pascal) => SettingNames.Kebab(pascal);

    /// <summary><c>ChannelCapacity</c> → <c>CHANNEL_CAPACITY</c>.</summary>
    public static string ScreamingSnake(string pascal) => SettingNames.ScreamingSnake(pascal);

    private static List<SettingDescriptor> Build()
    {
        var docs = LoadDocumentation();
        var list = new List<SettingDescriptor>();
        Add(list, typeof(ServerOptions), new ServerOptions(), ServerOptions.SectionName, docs);
        Add(list, typeof(QueueOptions), new QueueOptions(), QueueSectionName, docs);
        return list;
    }

    private static void Add(List<SettingDescriptor> list, Type type, object defaults, string section, Dictionary<string, string> docs)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { IsPublic: true } || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var flagName = Kebab(property.Name);
            if (property.PropertyType.IsArray && flagName.EndsWith('s'))
            {
                flagName = flagName[..^1];
            }

            docs.TryGetValue($"P:{type.FullName}.{property.Name}", out var description);
            list.Add(new SettingDescriptor(
                property,
                $"{section}:{property.Name}",
                "--" + flagName,
                EnvironmentPrefix + ScreamingSnake(property.Name),
                FormatDefault(property.GetValue(defaults)),
                description ?? property.Name));
        }
    }

    private static string FormatDefault(object? value) => value switch
    {
        null => "none",
        bool flag => flag ? "true" : "false",
        string[] { Length: 0 } => "none",
        string[] array => string.Join(",", array),
        TimeSpan span => span.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "none",
    };

    /// <summary>Reads the summaries of the XML documentation files shipped next to the assemblies (GenerateDocumentationFile).</summary>
    private static Dictionary<string, string> LoadDocumentation()
    {
        var docs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var assembly in new[] { typeof(ServerOptions).Assembly, typeof(QueueOptions).Assembly })
        {
            var path = Path.Combine(AppContext.BaseDirectory, assembly.GetName().Name + ".xml");
            if (!File.Exists(path))
            {
                continue;
            }

            try
            {
                foreach (var member in XDocument.Load(path).Descendants("member"))
                {
                    var name = member.Attribute("name")?.Value;
                    var summary = member.Element("summary");
                    if (name is not null && summary is not null)
                    {
                        docs[name] = string.Join(' ', string.Concat(summary.Nodes().Select(NodeText)).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
                    }
                }
            }
            catch (System.Xml.XmlException)
            {
                // A damaged documentation file only costs the help text; the setting names still show.
            }
        }

        return docs;
    }

    private static string NodeText(XNode node) => node switch
    {
        XText text => text.Value,
        XElement { Name.LocalName: "c" } element => element.Value,
        XElement element when element.Attribute("cref") is { } cref => cref.Value[(cref.Value.LastIndexOf('.') + 1)..],
        XElement element => element.Value,
        _ => string.Empty,
    };
}
