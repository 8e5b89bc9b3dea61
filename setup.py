"""realname-guard: find SIM cards and bank accounts that are real-name but not real person."""

from setuptools import setup

# The product's folders stay at the top of the repository; they install (and import) as
# realname_guard.<folder> so that nothing generic like `models` or `core` lands in site-packages.
FOLDERS = ("core", "features", "models", "jobs", "pipelines", "policy", "quality", "generator")
PACKAGE_DIR = {
    "realname_guard": "realname_guard",
    **{f"realname_guard.{folder}": folder for folder in FOLDERS},
    "realname_guard.conf.base": "conf/base",  # YAML only: ships the default config inside the wheel
}

setup(
    name="realname-guard",
    version="0.1.0",
    description="Spark batch job that lists SIMs and bank accounts registered under a real ID "
    "but not used by its holder (实名不实人), for re-verification and revocation.",
    python_requires=">=3.11,<3.12",
    packages=list(PACKAGE_DIR),
    package_dir=PACKAGE_DIR,
    package_data={
        "realname_guard.conf.base": ["*.yaml", "datasets/*.yaml"],
        # The Data Docs' style sheets, scripts and fonts (scripts/vendor_data_docs.py): offline docs.
        "realname_guard.quality": ["data_docs_assets/*", "data_docs_assets/*/*", "data_docs_assets/*/*/*"],
    },
    install_requires=[
        "pyspark==4.3.0",
        "great-expectations==1.24.1",
        "mlflow==3.17.2",
        # xgboost-cpu: same API as xgboost without the 470 MB CUDA NCCL wheel.
        "xgboost-cpu==3.2.0",
        "pyarrow>=18,<26",
        "pandas>=2.2,<3",
        "numpy>=2.0,<3",
        "scikit-learn==1.9.1",
        "pyyaml==6.0.4",
        "pydantic>=2.10,<3",
        # Maintained data tables only: GB 2260 area codes and Chinese names (generator),
        # OpenCC traditional->simplified character table (name normalisation).
        "faker==40.54.0",
        "opencc-python-reimplemented==0.1.7",
        "psutil==7.2.2",
        "matplotlib==3.11.2",  # the plots of report.html (inline SVG)
    ],
    extras_require={
        "dev": [
            "pytest==9.2.0", "pytest-xdist==3.8.0", "ruff==0.17.6", "mypy==2.4.1", "duckdb==2.0.1", "types-PyYAML",
            "import-linter==2.17",  # make lint: the layer contracts in pyproject.toml
            "wheel==0.48.0",  # tests/test_package.py builds the wheel without build isolation
        ],
    },
    entry_points={"console_scripts": ["realname-guard=realname_guard.cli:main"]},
)
