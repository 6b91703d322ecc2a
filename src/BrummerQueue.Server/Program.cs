using BrummerQueue.Server.Cli;

return await BrummerCli.RunAsync(args);
