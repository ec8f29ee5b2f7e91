export const VERSION = '0.1.0';

export const HELP: Record<string, string> = {
  main: `uk — build and run unikernels written in TypeScript

Usage: uk <command> [options]

Commands:
  new <name>              scaffold an app: package.json, a kernel entry and a test
  build [app]             bundle an app's kernel into an image (<app>/dist/<name>.uk.js)
  run <image|app>         boot an image (or build and boot an app) on the uk virtual machine
  inspect <image>         show the components in an image and what each costs in bytes
  dtb [file.dtb]          print a device tree blob as dts (as dtc -I dtb -O dts does);
                          without a file, the tree of the machine \`uk run\` would build

Options:
  -h, --help              show help (also: uk <command> --help)
  -v, --version           print the version

Exit status: 0 on success; 2 when the command line or an input file is wrong;
for \`uk run\`, the guest's own exit status (see uk run --help).

Examples:
  uk build apps/hello
  uk run apps/hello -- world
  uk run --mode inline --mem 128M apps/hello/dist/hello.uk.js
  uk inspect apps/hello/dist/hello.uk.js
`,
  new: `Usage: uk new <name> [options]

Creates the directory <name> with an app that builds and boots at once: package.json
(scripts build, start and test), src/kernel.ts (export default kernel({ main })) and
test/kernel.test.ts (builds the image, boots it, checks what it prints). Inside uk's own
repository the app uses the workspace's packages; elsewhere, the published @uk packages.

Options:
  -h, --help              show this help

Example:
  uk new my-app && cd my-app && pnpm install && pnpm start
`,
  build: `Usage: uk build [app] [options]

Bundles the app's kernel entry (package.json "uk.kernel", default src/kernel.ts, whose
default export is kernel({...}) from @uk/boot) with every component it composes into one
minified, tree-shaken script that imports nothing: the image. Beside it goes a manifest
(<name>.uk.json) with the components, their versions and bytes, the total and a sha256.
A component that requires a service no composed component provides is an error here, not
at boot. [app] is a directory, or a name under ./apps; default: the current directory.

Options:
  -o, --out-dir <dir>     where to write the image and manifest (default <app>/dist)
      --json              print the manifest instead of the summary table
  -h, --help              show this help

Example:
  uk build apps/hello
`,
  run: `Usage: uk run <image|app> [options] [-- args...]

Boots an image on the uk virtual machine (QEMU's riscv64 virt board, modelled in
TypeScript). Given an app directory, builds it first. Arguments after -- become main's
argv (argv[0] is the app's name); --env NAME=value entries become its environment.

Options:
      --mode <mode>       isolated (default): the guest runs in a Worker whose global scope
                          holds only ECMAScript built-ins; inline: in this process's isolate,
                          MMIO is a function call (fastest)
  -m, --mem <size>        guest RAM: 64M (default), 512M, 1G ... (a bare number is MiB)
      --timeout <sec>     stop the guest after this many seconds (exit status 124). In
                          inline mode a guest stuck in a loop that never yields cannot be
                          stopped without ending the process: uk prints the report and
                          kills itself (exit status 137) one second later
  -e, --env <NAME=value>  set an environment variable for main (repeatable)
      --disk <file[,ro]>  a virtio-blk disk backed by a raw image file (a whole number of
                          512-byte sectors); ro: read-only. Repeatable: vda, vdb, ...
      --net <spec>        a virtio-net NIC (repeatable: eth0, eth1, ...). spec is a backend
                          and options, comma-separated:
                            user[,hostfwd=tcp::8080-:80]  NAT, DHCP, DNS (like QEMU's)
                            udp=HOST:PORT[,localaddr=HOST:PORT]  one frame per datagram
                                                 (QEMU -netdev socket,udp=; socat TUN:...)
                            switch[=NAME][,loss=P,dup=P,reorder=P,delay=MS,seed=N]
                            ...,mac=52:54:00:12:34:56  ...,pcap=FILE (capture as pcap)
      --device <module>[,key=value...]
                          a device model from a package or a file (repeatable), on the
                          next virtio-mmio slot after the disks and NICs. Its default
                          export is (options: Record<string, string>) => SlotDevice and is
                          called with the key=value options. A package is found from the
                          app's directory (else the current one), a path from the current
                          directory. An app's package.json may list its own:
                          "uk": { "devices": ["@acme/virtio-rng/device"] }; uk run <app>
                          attaches those first
      --no-code-cache     do not use or keep V8's compiled code for the image (kept by
                          default under $XDG_CACHE_HOME/uk or ~/.cache/uk, per image and
                          Node version, so later boots skip compiling)
  -h, --help              show this help

Exit status: the guest's power-off status (main's return value); 70 if the guest faulted
(touched an address where no device is, or a page it may not) or crashed; 124 if it ran
past --timeout; 2 if the image or an option is wrong.

Examples:
  uk run apps/hello
  uk run --mode inline apps/hello/dist/hello.uk.js -- one two
  uk run my-app --device @acme/virtio-rng/device,seed=42
`,
  inspect: `Usage: uk inspect <image> [options]

Shows what an image holds: its components (name, package, version, init level) and the
bytes each package contributes, read from the manifest uk build wrote beside it
(<name>.uk.json); checks the image's sha256 against the manifest.

Options:
      --json              print the manifest as JSON
  -h, --help              show this help
`,
  dtb: `Usage: uk dtb [file.dtb] [options]

Prints a flattened device tree in dts syntax, as \`dtc -I dtb -O dts\` does. A malformed
blob is reported with what is wrong and where (exit status 2). Without a file, prints the
device tree of the machine uk run builds.

Options:
  -m, --mem <size>        with no file: the machine's RAM size (default 64M)
  -o, --output <file>     with no file: write the machine's blob to <file> instead
  -h, --help              show this help
`,
};
