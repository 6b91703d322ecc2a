namespace BrummerQueue.Core.Tests.Model;

internal sealed class ModelSubscription(string channel, int bufferSize)
{
    public string Channel { get; } = channel;

    public Queue<ModelMessage> Buffer { get; } = new();

    public long Dropped { get; set; }

    public bool Closed { get; set; }

    public void Enqueue(ModelMessage message)
    {
        if (Buffer.Count >= bufferSize)
        {
            Buffer.Dequeue();
            Dropped++;
        }

        Buffer.Enqueue(message);
    }
}
