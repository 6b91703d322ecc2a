using System.Security.Cryptography;

namespace BrummerQueue.Redis;

/// <summary>Epoch candidates: 8 characters of lowercase base32 (<c>a-z2-7</c>), from the operating system's CSPRNG.</summary>
internal static class Epochs
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>A fresh candidate; a script uses it only when it creates the channel.</summary>
    public static string Next() => RandomNumberGenerator.GetString(Alphabet, 8);
}
