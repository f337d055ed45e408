using SafeMem.Cli.CommandLine;

return await SafeMemCommandLine.RunAsync(args, Console.Out, Console.Error);
