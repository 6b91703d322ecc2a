namespace BrummerQueue.Core.Tests.Model;

internal sealed record ModelMessage(long Seq, long ExpiresAt, int Bytes);
