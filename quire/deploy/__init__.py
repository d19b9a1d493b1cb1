"""Publish the built site to the target in site.toml's [deploy] table (`quire deploy`).

    [deploy]
    target = "dir:/var/www/blog"          # copy changed files, delete stale ones
    target = "rsync:me@host:/var/www/blog" # rsync --delete --checksum
    target = "git:gh-pages"                # commit output/ to a branch of this repo

A failed build is never deployed. The targets live in folder.py (dir:), rsync.py and git.py;
the [deploy] table and the Plan every target returns in target.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from quire import pipeline
from quire.config import BASE_URL_MISSING, base_url_missing, load_config
from quire.deploy.folder import apply_dir, dir_destination, plan_dir
from quire.deploy.git import deploy_git
from quire.deploy.rsync import deploy_rsync
from quire.deploy.target import DeployError, Plan, Target, parse_target
from quire.problems import BuildFailed, Problem

__all__ = ["DeployError", "DeployOptions", "Plan", "Target", "deploy"]


@dataclass(frozen=True)
class DeployOptions:
    build: pipeline.BuildOptions  # the build deployed; its output_dir is what is published
    dry_run: bool = False
    target: str | None = None  # overrides [deploy] target


def deploy(options: DeployOptions, log: Callable[[str], None] = print) -> Plan:
    """Validate the target, build, publish. Raises BuildFailed or DeployError."""
    site = options.build.site_dir
    target = _target(options)
    build = replace(options.build, output_dir=options.build.output_dir.absolute())
    output = build.output_dir
    dest = dir_destination(target.where, site, output) if target.kind == "dir" else None

    result = pipeline.build(build)
    log(result.summary())

    if target.kind == "dir":
        plan = plan_dir(output, dest)
        if not options.dry_run:
            apply_dir(output, dest, plan)
    elif target.kind == "rsync":
        plan = deploy_rsync(output, target.where, options.dry_run)
    else:
        plan, commit = deploy_git(output, site, target, options.dry_run)
        if not options.dry_run and not plan.empty:
            log(f"Committed {commit[:12]} to branch {target.where}; publish it with:")
            log(f"  git push origin {target.where}")
    return plan


def _target(options: DeployOptions) -> Target:
    """site.toml's [deploy] target (or --target instead); its problems raise BuildFailed."""
    site = options.build.site_dir
    config, problems = load_config(site)
    if config is None:
        raise BuildFailed(problems)
    if base_url_missing(config) and not options.build.base_url:
        # a published site must not point its canonical links and feeds at localhost
        raise BuildFailed([Problem("site.toml", None, BASE_URL_MISSING)])
    table = dict(config.deploy)
    if options.target:
        table["target"] = options.target
    text = (site / "site.toml").read_text(encoding="utf-8-sig")
    target, problems = parse_target(table, text)
    if target is None:
        raise BuildFailed(problems)
    return target
