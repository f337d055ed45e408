namespace SafeMem.Cli.TestTarget;

/// <summary>
/// Closed windows kept by a static event: every step opens 20 windows (200 a second), each subscribing to
/// <see cref="Theme.Changed"/>, and closes them; closing forgets to unsubscribe, so the event keeps every window.
/// </summary>
internal static class Desktop
{
    public static void Step()
    {
        for (int i = 0; i < 20; i++)
        {
            new Window().Close();
        }
    }
}

/// <summary>An application-wide theme, whose event outlives every window.</summary>
internal static class Theme
{
    public static event EventHandler? Changed;

    public static void Raise() => Changed?.Invoke(null, EventArgs.Empty);
}

/// <summary>A window that subscribes to the theme and does not unsubscribe when closed.</summary>
internal sealed class Window
{
    private readonly byte[] _pixels = new byte[256];

    // The planted leak safemem's tests must find: closed windows kept alive by a static event.
#pragma warning disable SM1002
    public Window() => Theme.Changed += OnThemeChanged;
#pragma warning restore SM1002

    public bool IsClosed { get; private set; }

    public void Close() => IsClosed = true;

    private void OnThemeChanged(object? sender, EventArgs e) => _pixels[0]++;
}
