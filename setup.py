"""realname-guard: find SIM cards and bank accounts that are real-name but not real person."""

from setuptools import find_packages, setup

setup(
    name="realname-guard",
    version="0.1.0",
    description="Spark batch job that lists SIMs and bank accounts registered under a real ID "
    "but not used by its holder (实名不实人), for re-verification and revocation.",
    python_requires=">=3.11,<3.12",
    packages=[
        *find_packages(
            include=["core*", "features*", "models*", "jobs*", "pipelines*", "policy*", "quality*", "generator*"]
        ),
        "conf.base",  # YAML only (a namespace package): ships the default config inside the wheel
    ],
    package_data={"conf.base": ["*.yaml"]},
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
    ],
    extras_require={
        "dev": ["pytest==9.2.0", "ruff==0.17.6", "mypy==2.4.1", "duckdb==2.0.1", "types-PyYAML"],
    },
    entry_points={"console_scripts": ["realname-guard=jobs.cli:main"]},
)
