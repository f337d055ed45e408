#!/usr/bin/env bash
# Proves that the packages work as a dependency, as a new user meets them: packs the libraries into a temporary folder
# feed, checks what the packages declare, then builds and runs tests/consumer (which references them by version) on
# net8.0 and net10.0, once with the lowest Microsoft.Extensions versions the packages allow and once with the newest the
# registry serves, with warnings as errors. Uses only the configured registry and the temporary feed; leaves nothing
# behind (the packages restore into a temporary folder, reading the machine's package cache without writing to it).
set -euo pipefail
cd "$(dirname "$0")/.."

# The newest Microsoft.Extensions the registry serves, and the newest that supports net8.0 (11 does not).
newest_extensions=11.0.0
newest_extensions_on_net8=10.0.15
sm_extensions='Caching\.Abstractions|DependencyInjection|DependencyInjection\.Abstractions|ObjectPool|Options|Primitives'
# Every project in src/ that does not opt out of packing is a package.
mapfile -t projects < <(grep -L '<IsPackable>false</IsPackable>' src/*/*.csproj)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A version of this run's own, so that no copy of SafeMem in a package cache can stand in for the packages packed here.
version="0.1.0-consumer.$(date +%s)"

# Pack what the ordinary Release build produced (a no-op build after .ci/run's), so that the version given to pack
# changes nothing in the repository's obj/ folders.
echo "::: consumer: pack ${#projects[@]} packages as $version"
libraries=()
for project in "${projects[@]}"; do
  dotnet build "$project" -c Release -warnaserror -nologo -v:q -clp:NoSummary
  dotnet pack "$project" -c Release --no-build -o "$work/feed" -p:PackageVersion="$version" -warnaserror -nologo -v:q -clp:NoSummary
  libraries+=("$(basename "$project" .csproj)")
done

fail() { echo "consumer: $*" >&2; exit 1; }
for library in "${libraries[@]}"; do
  package="$work/feed/$library.$version.nupkg"
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
    [[ -f "$package" && -f "${package%.nupkg}.snupkg" ]] || fail "$library: no .nupkg with a .snupkg"
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
  # The app references each package, directly or (the analyzers) through the SafeMem package, which carries them.
  if [[ "$library" == SafeMem.Analyzers ]]; then
    safemem_files=$(unzip -Z1 "$work/feed/SafeMem.$version.nupkg")
    grep -qxF analyzers/dotnet/cs/SafeMem.Analyzers.dll <<<"$safemem_files" \
      || fail "$library: the SafeMem package does not bring the analyzers along"
  else
    grep -q "<PackageReference Include=\"$library\"" tests/consumer/SafeMem.Consumer.csproj \
      || fail "$library: tests/consumer does not reference it"
  fi
  echo "$library $version:"
  { grep -E '<group|<dependency' <<<"$nuspec" || echo "  (no dependencies)"; } | sed -E 's/^ +/  /; s/ exclude="[^"]*"//'
done

# Found by NuGet above each copy of the app, on top of the machine's own configuration (its registry).
cat > "$work/NuGet.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="safemem-packed" value="$work/feed" />
  </packageSources>
  <config>
    <add key="globalPackagesFolder" value="$work/packages" />
  </config>
  <fallbackPackageFolders>
    <add key="machine" value="${NUGET_PACKAGES:-$HOME/.nuget/packages}" />
  </fallbackPackageFolders>
</configuration>
CONFIG

run() { # $1: lowest|newest; $2, $3: the Microsoft.Extensions version to lift everything to on net10.0, on net8.0
        # (empty: the lowest, so the packages' own lower bounds); $4: whether the app takes SafeMem.Testing too
  local app="$work/$1"
  mkdir -p "$app"
  cp tests/consumer/*.cs tests/consumer/*.csproj tests/consumer/Directory.Build.* "$app/"
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
echo "consumer: the packages build and run on net8.0 and net10.0 with the lowest and the newest Microsoft.Extensions"
