#!/usr/bin/env perl
# Prints the lines of a table whose key (or -f N'th field) is in an id list (--exclude: is not).
# Kaldi-compatible name and command line; a shim that runs the Python implementation
# (python -m phonsid.data.scp filter_scp), so 'perl utils/filter_scp.pl' and 'utils/filter_scp.pl' both work.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);

my $root = dirname(dirname(abs_path($0)));
my $py = "python3";
foreach my $cand (($ENV{PHONSID_ROOT} ? "$ENV{PHONSID_ROOT}/venv/bin/python" : ()), "$root/venv/bin/python") {
  if (-x $cand) { $py = $cand; last; }
}
$ENV{PYTHONPATH} = "$root/pyscripts" . (($ENV{PYTHONPATH} // "") ne "" ? ":$ENV{PYTHONPATH}" : "");
exec { $py } $py, "-m", "phonsid.data.scp", "filter_scp", @ARGV;
die "filter_scp.pl: cannot run $py: $!\n";
