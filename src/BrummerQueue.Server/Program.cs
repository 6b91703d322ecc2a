using BrummerQueue.Server.Cli;

return await BrummerCli.Create().Parse(args).InvokeAsync();
