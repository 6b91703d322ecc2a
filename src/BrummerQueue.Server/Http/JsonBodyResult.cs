using System.Text.Json;

using BrummerQueue.Server.Protocol;

namespace BrummerQueue.Server.Http;

/// <summary>An <see cref="IResult"/> whose JSON body is written straight to the response by a <see cref="Utf8JsonWriter"/> (payloads stay raw).</summary>
internal sealed class JsonBodyResult(int statusCode, Action<Utf8JsonWriter> write) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        await using (var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter, WireJson.WriterOptions))
        {
            write(writer);
        }

        await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }
}
