using BrummerQueue.Load;

return await LoadCommand.Create().Parse(args).InvokeAsync();
