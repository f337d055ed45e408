#!/usr/bin/env bash
# Proves that the packages work as a dependency, as a new user meets them: follows README's steps ("Reference the
# packages") word for word, with an empty package cache: packs every package of the solution into a folder feed beside
# the apps, checks what the packages declare, adds them to a new app with `dotnet add package` through README's
# nuget.config (the feed beside the machine's usual source), then builds and runs tests/consumer (which references them
# by version) on net8.0 and net10.0, once with the lowest Microsoft.Extensions versions the packages allow and once with
# the newest the registry serves, with warnings as errors; a tool package (SafeMem.Cli) is installed from the feed with `dotnet tool
# install` and pointed at that app. Uses only the machine's configured registry and the feed;
# leaves nothing behind (the apps restore into a temporary, initially empty package cache).
set -euo pipefail
cd "$(dirname "$0")/.."

# The newest Microsoft.Extensions the registry serves, and the newest that supports net8.0 (11 does not).
newest_extensions=11.0.0
newest_extensions_on_net8=10.0.15
sm_extensions='Caching\.Abstractions|DependencyInjection|DependencyInjection\.Abstractions|ObjectPool|Options|Primitives'
# Every project in src/ that does not opt out of packing is a package.
mapfile -t projects < <(grep -L '<IsPackable>false</IsPackable>' src/*/*.csproj)

fail() { echo "consumer: $*" >&2; exit 1; }

# README's steps, which this script runs: they must stay the ones README gives.
repo_version=$(sed -nE 's#.*<Version>([^<]+)</Version>.*#\1#p' Directory.Build.props | head -1)
pack_command='dotnet pack SafeMem.sln -c Release -o ../safemem-feed'
add_command="dotnet add package SafeMem --version $repo_version"
for command in "$pack_command" "$add_command"; do
  grep -qxF "$command" README.md || fail "README.md no longer gives: $command"
done
# README's nuget.config, its only xml block: used as it is, so the apps below sit beside a safemem-feed folder.
nuget_config=$(awk '/^```xml$/ { block = 1; next } block && /^```$/ { exit } block' README.md)
grep -qF '<add key="safemem" value="../safemem-feed" />' <<<"$nuget_config" || fail "README.md's nuget.config no longer adds ../safemem-feed"
if grep -qi '<clear' <<<"$nuget_config"; then fail "README.md's nuget.config clears the usual sources"; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
feed="$work/safemem-feed"
# A version of this run's own, so that no copy of SafeMem in a package cache can stand in for the packages packed here.
version="0.1.0-consumer.$(date +%s)"

# README's pack command over what the ordinary Release build produced (a no-op build after .ci/run's; --no-build and
# --no-restore so that the version given to pack changes nothing in the repository's obj/ folders).
echo "::: consumer: ${pack_command/..\/safemem-feed/$feed} --no-build, as $version"
for project in "${projects[@]}"; do
  dotnet build "$project" -c Release -warnaserror -nologo -v:q -clp:NoSummary
done
dotnet pack SafeMem.sln -c Release -o "$feed" --no-build --no-restore -p:PackageVersion="$version" -warnaserror -nologo -v:q -clp:NoSummary
libraries=()
for project in "${projects[@]}"; do
  libraries+=("$(basename "$project" .csproj)")
done

tools=()
for library in "${libraries[@]}"; do
  package="$feed/$library.$version.nupkg"
  if [[ "$library" == *.Analyzers ]]; then
    # An analyzer package: the analyzers and code fixes in analyzers/dotnet/cs, no lib (so no reference and no .snupkg);
    # their PDBs, with the SourceLink map, beside them.
    [[ -f "$package" ]] || fail "$library: no .nupkg"
    files=$(unzip -Z1 "$package")
    for assembly in "$library" "$library.CodeFixes"; do
      grep -qxF "analyzers/dotnet/cs/$assembly.dll" <<<"$files" || fail "$library: no analyzers/dotnet/cs/$assembly.dll"
      # To a file first: grep -q stops reading at the first match, which would fail the pipe under pipefail.
      unzip -p "$package" "analyzers/dotnet/cs/$assembly.pdb" >"$work/pdbs"
      grep -aq 'https://raw.githubusercontent.com/safemem/safemem/' "$work/pdbs" \
        || fail "$library: $assembly.pdb carries no SourceLink to the repository"
    done
    if grep -q '^lib/' <<<"$files"; then fail "$library: an analyzer package with a lib folder"; fi
  else
    [[ -f "$package" && -f "${package%.nupkg}.snupkg" ]] || fail "$library: no .nupkg with a .snupkg (is it in SafeMem.sln?)"
    # SourceLink: the symbol package's PDBs map their sources to the repository.
    unzip -p "${package%.nupkg}.snupkg" '*.pdb' >"$work/pdbs"
    grep -aq 'https://raw.githubusercontent.com/safemem/safemem/' "$work/pdbs" \
      || fail "$library: the PDBs carry no SourceLink to the repository"
  fi
  nuspec=$(unzip -p "$package" "$library.nuspec")
  grep -q '<repository type="git" url="https://github.com/safemem/safemem"' <<<"$nuspec" || fail "$library: no repository url"
  # Lower bounds only: an exact pin ([x]) or an upper bound makes every newer Microsoft.Extensions an NU1608.
  if grep -E 'version="[[(]' <<<"$nuspec"; then fail "$library: a dependency is not a lower bound"; fi
  # Only what the project references itself: a pinned transitive package must not leak in as a dependency.
  referenced=$(grep -ohE '(Package|Project)Reference Include="[^"]+"' "src/$library/$library.csproj" \
    | sed -E 's/.*Include="([^"]+)"/\1/; s#.*[\\/]##; s/\.csproj$//' | sort -u)
  for id in $(grep -oE '<dependency id="[^"]+"' <<<"$nuspec" | cut -d'"' -f2 | sort -u); do
    grep -qxF "$id" <<<"$referenced" || fail "$library: depends on $id, which it does not reference"
  done
  # The package page shows the packed README: a relative link there leads nowhere.
  if unzip -p "$package" README.md | grep -nP '\]\((?!https://)' ; then fail "$library: relative link in the packed README"; fi
  if grep -q '<packageType name="DotnetTool"' <<<"$nuspec"; then
    # A .NET tool carries what it runs on inside the package: it declares no dependency, and it is installed and run
    # (below) rather than referenced.
    if grep -q '<dependency' <<<"$nuspec"; then fail "$library: a tool package declares a dependency"; fi
    tools+=("$library")
  elif [[ "$library" == SafeMem.Analyzers ]]; then
    # The app references it through the SafeMem package, which carries the analyzers.
    safemem_files=$(unzip -Z1 "$feed/SafeMem.$version.nupkg")
    grep -qxF analyzers/dotnet/cs/SafeMem.Analyzers.dll <<<"$safemem_files" \
      || fail "$library: the SafeMem package does not bring the analyzers along"
  else
    grep -q "<PackageReference Include=\"$library\"" tests/consumer/SafeMem.Consumer.csproj \
      || fail "$library: tests/consumer does not reference it"
  fi
  echo "$library $version:"
  { grep -E '<group|<dependency' <<<"$nuspec" || echo "  (no dependencies)"; } | sed -E 's/^ +/  /; s/ exclude="[^"]*"//'
done

# From here on, as on a machine whose package cache is empty: every package the apps need comes from the feed or the
# machine's usual source, through README's nuget.config, and nothing is read from or written to the machine's caches.
export NUGET_PACKAGES="$work/packages" NUGET_HTTP_CACHE_PATH="$work/http-cache"
mkdir -p "$NUGET_PACKAGES"

# README's steps in a new app: its nuget.config, then `dotnet add package` for every package in the feed (a .NET tool
# package is installed with `dotnet tool`, not added to a project).
app="$work/my-app"
echo "::: consumer: README's steps in a new app, from an empty package cache"
dotnet new console -o "$app" -n MyApp --no-restore >/dev/null
printf '%s\n' "$nuget_config" >"$app/nuget.config"
echo 'Console.WriteLine($"MyApp runs SafeMem {typeof(SafeMem.Caching.BoundedCache<int, int>).Assembly.GetName().Version}");' >"$app/Program.cs"
for package in "$feed"/*.nupkg; do
  nuspec=$(unzip -p "$package" '*.nuspec')
  grep -q '<packageType name="DotnetTool"' <<<"$nuspec" && continue
  id=$(grep -oP '<id>\K[^<]+' <<<"$nuspec")
  command="${add_command/SafeMem --version $repo_version/$id --version $version}"
  (cd "$app" && $command >"$work/add.log" 2>&1) || { cat "$work/add.log"; fail "my-app: $command failed"; }
  echo "  $command"
done
dotnet build "$app" -c Release -warnaserror -nologo -v:q -clp:NoSummary
output=$("$app/bin/Release/net10.0/MyApp") || fail "my-app: did not run"
echo "  $output"

run() { # $1: lowest|newest; $2, $3: the Microsoft.Extensions version to lift everything to on net10.0, on net8.0
        # (empty: the lowest, so the packages' own lower bounds); $4: whether the app takes SafeMem.Testing too
  local app="$work/$1"
  mkdir -p "$app"
  cp tests/consumer/*.cs tests/consumer/*.csproj tests/consumer/Directory.Build.* "$app/"
  printf '%s\n' "$nuget_config" >"$app/nuget.config"
  echo "::: consumer: $1 Microsoft.Extensions${2:+ ($2 on net10.0, $3 on net8.0)}"
  dotnet build "$app" -c Release -warnaserror -nologo -v:q -clp:NoSummary \
    -p:SafeMemVersion="$version" -p:ExtensionsVersion="$2" \
    -p:ExtensionsVersionOnNet8="$3" -p:WithTesting="$4" -p:ErrorLog="$app/analyzers.sarif"
  # The analyzers came with the SafeMem package and ran: SM1007 (information) reports Program.cs's Rent.
  grep -q '"ruleId": "SM1007"' "$app/analyzers.sarif" || fail "$1: the SafeMem.Analyzers analyzers did not run in the app's build"
  echo "  SafeMem.Analyzers ran in the app's build: $(grep -c '"ruleId": "SM10' "$app/analyzers.sarif") report(s), $(grep -o '"ruleId": "SM10[0-9]*"' "$app/analyzers.sarif" | sort -u | cut -d'"' -f4 | paste -sd, -)"
  local tfm expected output
  for tfm in net8.0 net10.0; do
    case "$1/$tfm" in
      lowest/net8.0) expected='8\.0\.[0-9]+' ;;
      lowest/net10.0) expected='10\.0\.0' ;;
      newest/net8.0) expected="${3//./\\.}" ;;
      newest/net10.0) expected="${2//./\\.}" ;;
    esac
    output=$("$app/bin/Release/$tfm/SafeMem.Consumer") || { echo "$output"; fail "$1/$tfm: a check failed"; }
    echo "$output" | sed "s#^#  $tfm: #"
    grep -q '^loaded Microsoft\.Extensions\.' <<<"$output" || fail "$1/$tfm: loaded no Microsoft.Extensions assembly"
    # The Microsoft.Extensions packages SafeMem depends on (others, such as those ClrMD brings, are only listed).
    if grep -E "^loaded Microsoft\.Extensions\.($sm_extensions) " <<<"$output" | grep -vE " $expected\$"; then
      fail "$1/$tfm: ran against a Microsoft.Extensions version other than $expected"
    fi
  done
}
run lowest "" "" false
run newest "$newest_extensions" "$newest_extensions_on_net8" true

# The safemem tool, installed from the feed as README.md says, pointed at the consumer app (a process that references
# SafeMem's libraries but not the tool) while the app waits: two snapshot files and their diff, and a growth run.
safemem_check() {
  echo "::: consumer: SafeMem.Cli installed with dotnet tool install, run against the consumer app"
  dotnet tool install SafeMem.Cli --version "$version" --tool-path "$work/tools" --add-source "$feed" \
    --configfile "$work/newest/nuget.config" >/dev/null
  local safemem="$work/tools/safemem" app_pid status
  mkfifo "$work/hold"
  "$work/newest/bin/Release/net10.0/SafeMem.Consumer" --wait <"$work/hold" >"$work/app.out" &
  app_pid=$!
  exec 3>"$work/hold" # the app's standard input: it waits until this closes
  for _ in $(seq 300); do grep -qx waiting "$work/app.out" && break; sleep 0.1; done
  grep -qx waiting "$work/app.out" || fail "SafeMem.Cli: the consumer app did not get ready"
  # Three snapshots, as growth takes by default: two cannot tell the runtime's own warm-up from growth.
  for name in first second third; do
    "$safemem" snapshot --pid "$app_pid" -o "$work/$name.safemem" 2>"$work/tool.err" \
      || { cat "$work/tool.err"; fail "SafeMem.Cli: snapshot failed"; }
  done
  set +e
  "$safemem" diff "$work/first.safemem" "$work/second.safemem" "$work/third.safemem" >"$work/diff.txt" 2>"$work/tool.err"
  status=$?
  set -e
  [[ $status -eq 0 ]] || { cat "$work/diff.txt" "$work/tool.err"; fail "SafeMem.Cli: diff of an idle app exited $status, not 0"; }
  set +e
  "$safemem" growth --pid "$app_pid" --interval 0.5 --format json >"$work/growth.json" 2>"$work/tool.err"
  status=$?
  set -e
  [[ $status -eq 0 ]] || { cat "$work/growth.json" "$work/tool.err"; fail "SafeMem.Cli: growth of an idle app exited $status, not 0"; }
  grep -q '"grew": false' "$work/growth.json" || fail "SafeMem.Cli: growth printed no json verdict"
  exec 3>&-
  wait "$app_pid" || fail "SafeMem.Cli: the consumer app failed a check"
  echo "  safemem snapshot, diff and growth ran against the consumer app (pid $app_pid): $(head -1 "$work/diff.txt")"
}
for tool in "${tools[@]}"; do
  case "$tool" in
    SafeMem.Cli) safemem_check ;;
    *) fail "$tool: a tool package with no check in .ci/consumer.sh" ;;
  esac
done
echo "consumer: README's steps work from an empty package cache; the packages build and run on net8.0 and net10.0 with the lowest and the newest Microsoft.Extensions"
